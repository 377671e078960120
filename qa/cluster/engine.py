"""Ray for the cluster commands: a local instance started and stopped, or a cluster joined.

Ray 2.60 authenticates every client of a cluster with a shared token when ``RAY_AUTH_MODE``
is ``token``, and reads that variable once, as it is imported: ``use_token_auth`` must run
before the first ``import ray`` of the process.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager

from embeddings.errors import first_line
from qa.errors import ClusterError

__all__ = ["ray_session", "use_token_auth"]

_AUTH_MODE = "RAY_AUTH_MODE"
# Ray's own log lines below this level stay in its session's log files.
_RAY_LOG_LEVEL = logging.WARNING
# How long a cluster's head may take to accept a connection before it is said to be absent.
_CONNECT_SECONDS = 5.0


def use_token_auth() -> None:
    """Token authentication unless the user chose otherwise: a local instance then makes a
    token (in ~/.ray/auth_token) and a cluster joined by address is sent the one found there
    or in ``RAY_AUTH_TOKEN``. Without it, Ray 2.60 joins such a cluster with no token and is
    refused."""
    os.environ.setdefault(_AUTH_MODE, "token")


def _unreachable(address: str) -> str | None:
    """Why nothing answers at a ``host:port`` address, or None (also for Ray's other forms,
    ``auto`` and ``ray://``). Ray itself retries a wrong address for minutes."""
    host, _, port = address.rpartition(":")
    if not host or "://" in address or not port.isdigit():
        return None
    try:
        socket.create_connection((host, int(port)), timeout=_CONNECT_SECONDS).close()
    except OSError as exc:
        return exc.strerror or str(exc) or type(exc).__name__
    return None


@contextmanager
def ray_session(address: str | None, cpus: int | None = None) -> Iterator[None]:
    """Ray to run on: the one this process is already connected to (left as it is), the
    cluster at ``address`` (joined, then left), or a new local instance of ``cpus`` CPUs (all
    of this machine's by default; started, then stopped)."""
    import ray

    if ray.is_initialized():
        yield
        return
    unreachable = None if address is None else _unreachable(address)
    if unreachable is not None:
        raise ClusterError(
            f"cannot join the Ray cluster at {address} ({unreachable}): check the address"
            " (host:port of its head, as `ray start --head` printed it)"
        )
    try:
        if address is None:
            ray.init(
                address="local",
                num_cpus=cpus or os.cpu_count(),
                include_dashboard=False,
                logging_level=_RAY_LOG_LEVEL,
            )
        else:
            ray.init(address=address, logging_level=_RAY_LOG_LEVEL)
    except ray.exceptions.AuthenticationError as exc:
        raise ClusterError(
            f"the Ray cluster at {address} refused this client's token: set RAY_AUTH_TOKEN (or"
            " put the cluster's token in ~/.ray/auth_token), as on its nodes"
        ) from exc
    except (ConnectionError, ValueError, TimeoutError) as exc:
        said = first_line(exc)
        # A token the cluster refuses looks like a connection that failed (Ray's log says).
        raise ClusterError(
            f"cannot join the Ray cluster at {address} ({said}): check the address, and that"
            " RAY_AUTH_TOKEN or ~/.ray/auth_token holds the token of the cluster's nodes"
        ) from exc
    try:
        yield
    finally:
        ray.shutdown()
