"""Request and response bodies."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class UserCreate(BaseModel):
    email: str = Field(max_length=320)
    name: str = Field(max_length=200)
    password: str = Field(min_length=8)
    newsletter: bool = False


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    name: str
    is_active: bool
    email_verified: bool


class PasswordChange(BaseModel):
    current_password: str
    new_password: str = Field(min_length=8)


class EmailChange(BaseModel):
    email: str = Field(max_length=320)


class UserImportRow(BaseModel):
    email: str
    name: str


class OrderCreate(BaseModel):
    user_id: int
    sku: str
    quantity: int = Field(gt=0)


class OrderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    user_id: int
    sku: str
    quantity: int
    total_cents: int
    currency: str
    status: str
    tracking_number: str | None
    created_at: datetime


class OrderStatusUpdate(BaseModel):
    status: str


class OrderNote(BaseModel):
    text: str = Field(max_length=2000)


class Shipment(BaseModel):
    tracking_number: str


class ReportRequest(BaseModel):
    start: date
    end: date


class JobOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: str
    status: str
    result_path: str | None
    error: str | None


class TaskStatus(BaseModel):
    task_id: str
    state: str
    result: str | None = None
