"""The HTTP API: FastAPI app factory, routes, limits and error mapping."""

from qa.api.app import create_app

__all__ = ["create_app"]
