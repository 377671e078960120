"""A sentence-transformers ONNX export run with onnxruntime and tokenizers alone.

Serving imports neither torch nor sentence-transformers (their imports take more than a
server's whole start-up budget): the graph is sentence-transformers' own export and
the steps after it (pooling, normalisation, input length) come from the export's
``dateline-pipeline.json``; the tests hold the vectors to sentence-transformers' own ONNX
backend on the same file.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from embeddings.errors import ModelLoadError
from embeddings.export import PIPELINE_FILE

__all__ = ["OnnxSentenceModel"]

Vectors = npt.NDArray[np.float32]
Matrix = npt.NDArray[Any]


class OnnxSentenceModel:
    """Tokenise, run the graph, pool, normalise: what ``SentenceTransformer.encode`` does."""

    def __init__(self, model: str, folder: Path, file_name: str) -> None:
        from tokenizers import Tokenizer

        try:
            pipeline = json.loads((folder / PIPELINE_FILE).read_text())
            self.max_tokens = int(pipeline["max_seq_length"])
            self.dimension = int(pipeline["dimension"])
            self._pooling: str = pipeline["pooling"]
            self._normalize = bool(pipeline["normalize"])
            tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
            self._graph = str(folder / file_name)
            self._single = self._session(threads=1)
        except Exception as exc:  # a damaged export: one message naming the folder
            raise ModelLoadError(model, f"cannot load its ONNX export in {folder} ({exc})") from exc
        self._counting = Tokenizer.from_str(tokenizer.to_str())
        self._counting.no_truncation()
        self._counting.no_padding()
        # Texts are tokenised unpadded, sorted by token count, and padded a batch at a time.
        tokenizer.enable_padding(pad_id=tokenizer.padding["pad_id"] if tokenizer.padding else 0)
        padding = tokenizer.padding
        self._padding = {k: padding[k] for k in ("direction", "pad_id", "pad_type_id", "pad_token")}
        tokenizer.no_padding()
        tokenizer.enable_truncation(self.max_tokens)
        self._tokenizer = tokenizer
        self._inputs = {node.name for node in self._single.get_inputs()}
        outputs = [node.name for node in self._single.get_outputs()]
        self._output = "last_hidden_state" if "last_hidden_state" in outputs else outputs[0]
        self._parallel: Any = None
        self._parallel_lock = threading.Lock()

    def _session(self, threads: int) -> Any:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # Waiting threads sleep instead of spinning: a lone question's thread never waits for a
        # team, and a batch's team shares the cores with ingest's reading and splitting thread
        # (the encoder alone is no slower).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return onnxruntime.InferenceSession(
            self._graph, options, providers=["CPUExecutionProvider"]
        )

    def _parallel_session(self) -> Any:
        """Batches use every core; made on the first batch, as a server may never see one."""
        with self._parallel_lock:
            if self._parallel is None:
                self._parallel = self._session(threads=os.cpu_count() or 1)
            return self._parallel

    def count_tokens(self, text: str) -> int:
        return len(self._counting.encode(text, add_special_tokens=False).ids)

    def encode(self, texts: Sequence[str], batch_size: int, *, parallel: bool) -> Vectors:
        """Fewest tokens first, so each batch pads little; vectors come back in input order.

        Sorting by token count, not characters, matters on news text: numbers, tickers and
        abbreviations cost several tokens a character, so batches sorted by characters are
        largely padding.
        """
        session = self._parallel_session() if parallel else self._single
        encodings = self._tokenizer.encode_batch(list(texts))
        order = np.argsort([len(encoding.ids) for encoding in encodings], kind="stable")
        vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            rows = order[start : start + batch_size]
            batch = [encodings[i] for i in rows]
            width = len(batch[-1].ids)
            for encoding in batch:
                encoding.pad(width, **self._padding)
            ids = np.array([e.ids for e in batch], dtype=np.int64)
            mask = np.array([e.attention_mask for e in batch], dtype=np.int64)
            feeds = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self._inputs:
                feeds["token_type_ids"] = np.array([e.type_ids for e in batch], dtype=np.int64)
            (hidden,) = session.run([self._output], feeds)
            vectors[rows] = self._pool(hidden, mask)
        if self._normalize:
            vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors

    def _pool(self, hidden: Matrix, mask: Matrix) -> Matrix:
        if self._pooling == "cls":
            pooled: Matrix = hidden[:, 0]
            return pooled
        weights = mask[..., None].astype(np.float32)
        if self._pooling == "max":
            pooled = np.where(weights > 0, hidden, -1e9).max(axis=1)
            return pooled
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return pooled
