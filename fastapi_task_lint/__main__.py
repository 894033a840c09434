from fastapi_task_lint.cli import run

run()
