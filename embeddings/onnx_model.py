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
import queue
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
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

    def __init__(self, model: str, folder: Path, file_name: str, batch_threads: int = 1) -> None:
        """``batch_threads``: the threads of each session that batches run on, one such
        session for each ``batch_threads`` cores (``bench.encoder`` compares the layouts)."""
        from tokenizers import Tokenizer

        try:
            pipeline = json.loads((folder / PIPELINE_FILE).read_text())
            self.max_tokens = int(pipeline["max_seq_length"])
            self.dimension = int(pipeline["dimension"])
            self._pooling: str = pipeline["pooling"]
            self._normalize = bool(pipeline["normalize"])
            tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
            self._graph = str(folder / file_name)
            self._single = self._session()
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
        self._batch_threads = batch_threads
        self._batch_session_count = max(1, (os.cpu_count() or 1) // batch_threads)
        self._batch_sessions: queue.SimpleQueue[Any] | None = None
        self._batch_sessions_lock = threading.Lock()

    def _session(self, threads: int = 1) -> Any:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        return onnxruntime.InferenceSession(
            self._graph, options, providers=["CPUExecutionProvider"]
        )

    def _free_batch_sessions(self) -> queue.SimpleQueue[Any]:
        """The sessions batches run on, side by side, each on one that is free; made on the
        first batch, as a server may never see one.

        By default a one-thread session a core: that beats one session whose threads split
        each batch, since those threads meet after every operator, and a core taken for a moment
        by another thread or process (ingest's reading, a cluster's writer) stalls them all.
        """
        with self._batch_sessions_lock:
            if self._batch_sessions is None:
                self._batch_sessions = queue.SimpleQueue()
                for _ in range(self._batch_session_count):
                    self._batch_sessions.put(self._session(self._batch_threads))
            return self._batch_sessions

    def count_tokens(self, text: str) -> int:
        return len(self._counting.encode(text, add_special_tokens=False).ids)

    def encode(self, texts: Sequence[str], batch_size: int, *, parallel: bool) -> Vectors:
        """Fewest tokens first, so each batch pads little; vectors come back in input order.

        Sorting by token count, not characters, matters on news text: numbers, tickers and
        abbreviations cost several tokens a character, so batches sorted by characters are
        largely padding.
        """
        encodings = self._tokenizer.encode_batch(list(texts))
        order = np.argsort([len(encoding.ids) for encoding in encodings], kind="stable")
        vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
        batches = [order[start : start + batch_size] for start in range(0, len(texts), batch_size)]
        if not parallel or len(batches) == 1:
            for rows in batches:
                vectors[rows] = self._run(self._single, [encodings[i] for i in rows])
        else:
            sessions = self._free_batch_sessions()

            def run(rows: npt.NDArray[np.intp]) -> None:
                session = sessions.get()
                try:
                    vectors[rows] = self._run(session, [encodings[i] for i in rows])
                finally:
                    sessions.put(session)

            with ThreadPoolExecutor(self._batch_session_count, "encode-batch") as pool:
                list(pool.map(run, batches))
        if self._normalize:
            vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors

    def _run(self, session: Any, batch: list[Any]) -> Matrix:
        """One batch's pooled vectors (not normalised), its encodings padded to its longest."""
        width = len(batch[-1].ids)
        for encoding in batch:
            encoding.pad(width, **self._padding)
        ids = np.array([e.ids for e in batch], dtype=np.int64)
        mask = np.array([e.attention_mask for e in batch], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.array([e.type_ids for e in batch], dtype=np.int64)
        (hidden,) = session.run([self._output], feeds)
        return self._pool(hidden, mask)

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
