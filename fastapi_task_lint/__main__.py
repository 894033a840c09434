from fastapi_task_lint.cli import main

main()
