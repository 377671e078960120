"""Schemathesis over the OpenAPI schema, in-process, every check: no 500, responses as declared."""

from __future__ import annotations

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis import Case
from schemathesis.openapi import from_asgi

from qa.api import create_app
from qa.settings import Settings

from .test_api import ready


def test_api_conforms_to_its_schema(seeded_settings: Settings) -> None:
    app = create_app(seeded_settings)
    with TestClient(app) as client:
        ready(client)
        schema = from_asgi("/openapi.json", app)
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 6
        for operation in operations:

            @given(case=operation.as_strategy())
            @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
            def conforms(case: Case) -> None:
                case.call_and_validate()

            conforms()
