"""What the transfer file answer looks like: the file's bytes and the headers about it."""

from __future__ import annotations

from typing import Any

from kumiai.uploads import BINARY

MEDIA_TYPE = "application/octet-stream"
"""Bytes, not text: nothing between the platform and the bank may re-encode the Shift_JIS
records or change their line ends."""

SKIPPED_HEADER = "Kumiai-Skipped-Payouts"


def _header(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "required": True, "schema": schema}


TRANSFER_FILE_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The bulk transfer file (Zengin 総合振込, Shift_JIS, 120-byte records, "
        "CRLF): one data record per payout, the customer code being the first 20 hex digits "
        "of the payout id",
        "content": {MEDIA_TYPE: BINARY},
        "headers": {
            "Content-Disposition": _header(
                "attachment; the name is furikomi-<fund>-<period>.txt", {"type": "string"}
            ),
            "ETag": _header("The file's SHA-256, hex", {"type": "string"}),
            "Repr-Digest": _header("sha-256 of the file (RFC 9530)", {"type": "string"}),
            SKIPPED_HEADER: _header(
                "Payouts left out because their accounts cannot be transferred to "
                "(only with skip_untransferable=true; else 0)",
                {"type": "integer", "minimum": 0},
            ),
        },
    }
}
