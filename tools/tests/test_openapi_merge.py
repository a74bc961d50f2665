"""Merging service documents into the frontend team's one document."""

from __future__ import annotations

from typing import Any

from kumiai_tools.openapi import merge_openapi


def _doc(path: str, schema_name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1", "description": "d"},
        "paths": {
            path: {
                "get": {
                    "operationId": path.strip("/"),
                    "responses": {
                        "200": {
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": f"#/components/schemas/{schema_name}"}
                                }
                            }
                        }
                    },
                }
            }
        },
        "components": {"schemas": {schema_name: schema}},
    }


def test_paths_are_prefixed_and_tagged_by_service() -> None:
    merged = merge_openapi([("onboarding", _doc("/funds", "Fund", {"type": "object"}))])
    assert list(merged["paths"]) == ["/onboarding/funds"]
    assert merged["paths"]["/onboarding/funds"]["get"]["tags"] == ["onboarding"]


def test_same_named_schemas_that_differ_are_kept_apart() -> None:
    a = _doc("/a", "Item", {"type": "object", "title": "A"})
    b = _doc("/b", "Item", {"type": "object", "title": "B"})
    same = _doc("/c", "Item", {"type": "object", "title": "A"})
    merged = merge_openapi([("ledger", a), ("subsidy", b), ("disclosure", same)])
    schemas = merged["components"]["schemas"]
    assert schemas["Item"]["title"] == "A"
    assert schemas["SubsidyItem"]["title"] == "B"
    ref = merged["paths"]["/subsidy/b"]["get"]["responses"]["200"]["content"]["application/json"]
    assert ref["schema"]["$ref"] == "#/components/schemas/SubsidyItem"
    shared = merged["paths"]["/disclosure/c"]["get"]["responses"]["200"]["content"]
    assert shared["application/json"]["schema"]["$ref"] == "#/components/schemas/Item"


def test_a_renamed_schema_carries_its_new_name_as_title() -> None:
    """Generators name their classes after the title: two classes must not share one."""
    a = _doc("/a", "Item", {"type": "object", "title": "Item", "properties": {"a": {}}})
    b = _doc("/b", "Item", {"type": "object", "title": "Item", "properties": {"b": {}}})
    schemas = merge_openapi([("ledger", a), ("subsidy", b)])["components"]["schemas"]
    assert (schemas["Item"]["title"], schemas["SubsidyItem"]["title"]) == ("Item", "SubsidyItem")
