"""Request and response models of businesses (MSMEs)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from kumiai.inputs import RequestBody


class MsmeIn(RequestBody):
    """A business registering on the platform (by itself, by staff, or referred by a bank)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "corporate_number": "7000012050002",
                    "company_name": "Hakodate Craft Brewery Co., Ltd.",
                    "prefecture_code": "01",
                    "municipality_code": "012025",
                    "industry": "E",
                    "head_office_address": "1-2-3 Motomachi, Hakodate, Hokkaido",
                    "representative_name": "Taro Yamada",
                    "contact_name": "Hanako Sato",
                    "contact_email": "finance@example.jp",
                    "contact_phone": "+81-138-00-0000",
                }
            ]
        },
    )

    corporate_number: str = Field(max_length=13, description="13 digits, check digit first")
    company_name: str = Field(min_length=1, max_length=200)
    prefecture_code: str = Field(max_length=2, description="JIS X 0401, two digits")
    municipality_code: str = Field(max_length=6, description="Local government code, six digits")
    industry: str = Field(max_length=1, description="JSIC major division, A-T")
    head_office_address: str = Field(min_length=3, max_length=300)
    representative_name: str = Field(min_length=1, max_length=100, description="Personal data")
    contact_name: str = Field(min_length=1, max_length=100, description="Personal data")
    contact_email: EmailStr = Field(max_length=254, description="Personal data")
    contact_phone: str = Field(
        max_length=20, pattern=r"^\+?[0-9][0-9 ()-]{8,18}[0-9]$", description="Personal data"
    )


class MsmeContactOut(BaseModel):
    """Personal data: shown to the business itself and to staff only."""

    representative_name: str
    contact_name: str
    contact_email: str
    contact_phone: str


class MsmeOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "087dbff6-c310-5df2-b21e-cd1f21c575a8",
                    "corporate_number": "7000012050002",
                    "company_name": "Hakodate Craft Brewery Co., Ltd.",
                    "prefecture_code": "01",
                    "prefecture_name": "Hokkaido",
                    "municipality_code": "012025",
                    "industry": "E",
                    "head_office_address": "1-2-3 Motomachi, Hakodate, Hokkaido",
                    "referred_by_bank": "hokkaido-bank",
                    "created_at": "2026-09-01T09:45:00+09:00",
                    "contact": {
                        "representative_name": "Taro Yamada",
                        "contact_name": "Hanako Sato",
                        "contact_email": "finance@example.jp",
                        "contact_phone": "+81-138-00-0000",
                    },
                }
            ]
        }
    )

    id: UUID
    corporate_number: str
    company_name: str
    prefecture_code: str
    prefecture_name: str
    municipality_code: str
    industry: str
    head_office_address: str
    referred_by_bank: str | None
    created_at: datetime
    contact: MsmeContactOut | None = Field(
        description="Personal data; null for partner banks", default=None
    )
