"""One question followed from the HTTP route to the JSON: each module is read once, top to
bottom. The calls are recorded as they happen (``sys.setprofile``) over the real app, model
and archive; a call back into a module the question is still inside would send a reader back
to a file already left, and cleaning the question twice would read it twice."""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from fastapi.testclient import TestClient

from qa.api.app import create_app
from qa.settings import Settings

from .conftest import REPO

PACKAGES = ("qa", "embeddings")


def _module(frame: FrameType) -> str | None:
    path = Path(frame.f_code.co_filename)
    if not path.is_relative_to(REPO) or path.relative_to(REPO).parts[0] not in PACKAGES:
        return None
    return str(path.relative_to(REPO))


@dataclass
class Trace:
    """The project's modules a question enters, in order, and the calls back into one."""

    recording: bool = False
    routed: bool = False  # from the route on: the ASGI layers before it read the request
    stops: list[str] = field(default_factory=list)
    returns: list[str] = field(default_factory=list)
    cleanings: int = 0

    def __call__(self, frame: FrameType, event: str, arg: object) -> None:
        if not self.recording:
            return
        if event == "c_call" and frame.f_code.co_name == "clean_question":
            self.cleanings += getattr(arg, "__name__", None) == "strip"
        callee = _module(frame)
        if event != "call" or callee is None:
            return
        self.routed = self.routed or callee == "qa/api/routes.py"
        if not self.routed:
            return
        callers = [m for f in _callers(frame) if (m := _module(f)) is not None]
        if callers and callers[0] == callee:
            return
        if callee not in self.stops:
            self.stops.append(callee)
        if callee in callers[1:]:
            self.returns.append(f"{' -> '.join(reversed(callers))} -> {callee}")


def _callers(frame: FrameType) -> list[FrameType]:
    found, caller = [], frame.f_back
    while caller is not None:
        found.append(caller)
        caller = caller.f_back
    return found


def test_a_question_travels_one_way_from_the_route_to_the_json(
    seeded_settings: Settings,
) -> None:
    trace = Trace()
    threading.setprofile(trace)  # the route answers on a worker thread
    sys.setprofile(trace)
    try:
        with TestClient(create_app(seeded_settings)) as client:
            while client.get("/readyz").status_code != 200:
                time.sleep(0.1)
            trace.recording = True
            answer = client.post(
                "/api/chat", json={"question": "  What did Putin say about training?  "}
            )
            trace.recording = False
    finally:
        sys.setprofile(None)
        threading.setprofile(None)  # type: ignore[arg-type]
    assert answer.status_code == 200 and not answer.json()["abstained"]
    for step in ("qa/api/routes.py", "qa/reading.py", "qa/retrieval.py", "qa/answer.py"):
        assert step in trace.stops
    assert trace.returns == []
    assert trace.cleanings == 1
