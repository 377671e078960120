"""What a ``Settings`` builds: the store, the encoder and the index configuration it names.

Beside ``qa.settings`` but apart from it: the settings are read by every command, ``--help``
included, and must not import the store or the encoder to do so.
"""

from __future__ import annotations

from embeddings.encoder import Encoder
from embeddings.index import IndexConfig
from qa.faults import storage_errors
from qa.settings import Settings
from qa.store import STORE_FILE, Store

__all__ = ["index_config", "open_encoder", "open_store"]


def open_store(settings: Settings) -> Store:
    """The store of ``settings.data_dir``; a damaged or unreadable one is a one-line error."""
    with storage_errors(settings.data_dir):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return Store(settings.data_dir / STORE_FILE)


def open_encoder(settings: Settings, device: str = "cpu") -> Encoder:
    """The settings' encoder; on ``device`` (torch's name of it) for the torch backend."""
    return Encoder(
        settings.model, settings.batch_size, settings.backend, settings.model_cache_dir, device
    )


def index_config(settings: Settings) -> IndexConfig:
    return IndexConfig(
        settings.index_factory,
        settings.index_exact_limit,
        settings.hnsw_ef_search,
        compaction_share=settings.index_compaction_share,
    )
