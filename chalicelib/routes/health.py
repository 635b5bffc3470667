"""Liveness: answers without touching any AWS service."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.config import get_settings

bp = Blueprint(__name__)
VERSION = "0.1.0"


@bp.route("/health", methods=["GET"])
def health() -> dict[str, str]:
    return {"status": "ok", "stage": get_settings().stage, "version": VERSION}
