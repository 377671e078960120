"""One settings object for every surface, read from ``DATELINE_*`` variables and CLI flags."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from embeddings.index import (
    ANN_FACTORY,
    COMPACTION_SHARE,
    EF_SEARCH,
    EF_SEARCH_LARGE_FROM,
    EXACT_LIMIT,
)

__all__ = ["Settings"]


class Settings(BaseSettings):
    """Everything configurable; tests and the CLI pass values, nothing reads a global."""

    model_config = SettingsConfigDict(env_prefix="DATELINE_", extra="ignore")

    seeds_dir: Path = Field(Path("seeds"), description="Folder of article files to ingest.")
    data_dir: Path = Field(Path(".dateline"), description="Where the index and store live.")
    model: str = Field(
        "all-MiniLM-L6-v2",
        description="Sentence-transformers model name or local path; the default is bundled.",
    )
    batch_size: int = Field(32, ge=1, le=1024)
    max_file_bytes: int = Field(10_000_000, ge=1, description="Larger article files are skipped.")

    top_k: int = Field(3, ge=1, le=10)
    candidates: int = Field(50, ge=10, le=1000, description="Passages each ranker proposes.")
    lexical_weight: float = Field(0.5, ge=0.0, le=1.0, description="BM25 share of the fused score.")
    min_relevance: float = Field(
        0.6, description="Passages less relevant (cosine + 0.5 x word coverage) are not quoted."
    )
    min_confidence: float = Field(
        0.2, ge=0.0, le=1.0, description="Below this calibrated confidence the answer abstains."
    )

    answer_languages: list[str] = Field(
        default_factory=lambda: ["en"],
        description="ISO 639-1 codes of the languages the model reads: a question surely in "
        "another is answered with a note saying so. Empty: every question is answered.",
    )

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    cors_origins: list[str] = Field(default_factory=lambda: ["*"])
    rate_limit_per_minute: int = Field(
        60, ge=0, description="Per client on /api/chat, /api/search, /api/feedback; 0 = off."
    )
    max_body_bytes: int = Field(64 * 1024, ge=1024)
    api_token: str | None = Field(
        None, description="Bearer token for write endpoints; unset = off."
    )
    max_in_flight: int = Field(
        64, ge=1, description="API requests handled at once; more get 503 and Retry-After."
    )
    header_timeout_seconds: float = Field(
        10.0,
        gt=0,
        description="A connection that has not sent a whole request head this long after "
        "connecting or after its last answer is closed.",
    )
    body_timeout_seconds: float = Field(
        10.0, gt=0, description="A request body still incomplete this long after its head: 408."
    )
    forwarded_allow_ips: list[str] = Field(
        default_factory=list,
        description="Proxies (addresses, networks, '*') whose X-Forwarded-For and "
        "X-Forwarded-Proto are believed; none by default.",
    )
    workers: int = Field(
        1,
        ge=1,
        le=64,
        description="Server processes; each loads the model, all map the same index files.",
    )

    cluster_address: str | None = Field(
        None,
        description="Ray cluster (host:port of its head) that cluster commands join; unset: "
        "they start a local Ray and stop it when done.",
    )
    cluster_encoders: int = Field(
        1, ge=1, le=4096, description="Encoder actors of a cluster ingest; each loads the model."
    )
    cluster_block_articles: int = Field(
        384,
        ge=1,
        le=100_000,
        description="Articles a cluster ingest reads in one task, encodes in one call and "
        "commits in one transaction a shard: ~10 texts an article, about the single archive's "
        "largest encoder calls.",
    )
    cluster_window_bytes: int = Field(
        500_000_000,
        ge=1,
        description="Candidates (pickled: a file's ~0.5 KB, a JSONL article's its text) one Ray "
        "Data run of a cluster ingest takes; the driver holds them, and Ray's object store a "
        "pickled copy, while it runs, and each run starts its encoder actors anew.",
    )

    backend: Literal["torch", "onnx", "onnx-int8"] = Field(
        "onnx-int8",
        description="Encoder runtime; the ONNX ones are exported locally from the model once, "
        "on first use, and start and answer several times faster than torch.",
    )
    model_cache_dir: Path | None = Field(
        None, description="Where ONNX exports are kept; unset = ~/.cache/dateline."
    )
    index_factory: str = Field(
        ANN_FACTORY, description="FAISS factory string for indexes of index_exact_limit+ vectors."
    )
    index_exact_limit: int = Field(
        EXACT_LIMIT, ge=0, description="Below this many vectors search is exact (Flat)."
    )
    hnsw_ef_search: int | None = Field(
        None,
        ge=1,
        le=4096,
        description=f"HNSW search breadth; unset: {EF_SEARCH}, {2 * EF_SEARCH} from "
        f"{EF_SEARCH_LARGE_FROM:,} vectors.",
    )
    index_compaction_share: float = Field(
        COMPACTION_SHARE,
        ge=0.0,
        le=1.0,
        description="Deleted rows an index may hold, skipped by searches, as a share of its "
        "rows; past it the index is rebuilt without them (0: at every delete).",
    )

    cluster_replicas: int = Field(
        1, ge=1, le=64, description="Copies of each shard that `dateline cluster serve` runs."
    )
    cluster_replica_shards: int = Field(
        0,
        ge=0,
        le=1024,
        description="Shards each replica of a served cluster holds, asked in one call a round "
        "of a query: 0 spreads a node's shards over as many replicas as it has CPUs (the "
        "shards pinned to the same nodes, or, unpinned, all of them over the cluster's CPUs), "
        "so that where shards outnumber cores a query makes fewer calls; 1 runs a deployment "
        "per shard.",
    )
    cluster_replica_cpus: float = Field(
        0.25,
        gt=0,
        le=1024,
        description="CPUs Ray sets aside for each replica of a shard and of the front: the "
        "replicas that do not fit the cluster's CPUs wait, without an error.",
    )
    cluster_pin_shards: bool = Field(
        False,
        description="Run each shard's replicas only on the Ray nodes that offer a custom "
        "resource named after it (`ray start --resources '{\"dateline-shard-000\": 1}'`): "
        "the nodes whose disk holds that shard's folder.",
    )
    cluster_shard_timeout_seconds: float = Field(
        5.0,
        gt=0,
        description="How long a cluster's front waits for a shard (a replica killed meanwhile "
        "is retried once) before it answers from the others, saying which are missing.",
    )
    cluster_prefetch_shares: float = Field(
        3.0,
        ge=0,
        le=64,
        description="What each shard of a served cluster sends with its signals, in even "
        "shares of an answer's candidates: the candidates of its own best passages, so that a "
        "question mostly needs one round of calls to the shards (0: two rounds, always).",
    )

    @field_validator("answer_languages")
    @classmethod
    def _language_codes(cls, codes: list[str]) -> list[str]:
        if not all(len(code) == 2 and code.isascii() and code.isalpha() for code in codes):
            raise ValueError('ISO 639-1 codes are two letters, as in ["en", "de"]')
        return [code.lower() for code in codes]

    def environment(self) -> dict[str, str]:
        """These settings as ``DATELINE_*`` variables, for worker processes to read back."""
        return {
            f"DATELINE_{name.upper()}": value if isinstance(value, str) else json.dumps(value)
            for name, value in self.model_dump(mode="json", exclude_none=True).items()
        }
