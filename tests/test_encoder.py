"""Encoder backends: torch, and ONNX exported for real from the bundled model (fp32 and int8)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from embeddings.encoder import BACKENDS, Encoder, export_onnx
from embeddings.errors import ModelLoadError
from embeddings.export import ONNX_FILES, PIPELINE_FILE, int8_target
from embeddings.models import load_sentence_transformer
from embeddings.onnx_model import OnnxSentenceModel

from .conftest import REPO, SEED_LINES

TEXTS = [
    "What did Putin say about training?",
    "hi",
    "Shares of the company rose 5 pct on Monday after it reported higher quarterly earnings.",
    "OPEC ministers will meet in Vienna next week to discuss production quotas.",
    "The member-states of the SCO should ensure the association's resistance to external "
    "destructive influences, including attempts to trigger color revolutions, Russian Defense "
    "Minister Sergey Shoigu has said.",
    "word " * 400,  # longer than the window: truncated the same way by every backend
]


@pytest.fixture(scope="module")
def onnx_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One export (fp32 and int8) for the module, in a temporary cache, never downloaded."""
    cache = tmp_path_factory.mktemp("onnx-cache")
    export_onnx("all-MiniLM-L6-v2", cache)
    return cache


@pytest.fixture(scope="module")
def onnx_encoder(onnx_cache: Path) -> Encoder:
    return Encoder("all-MiniLM-L6-v2", backend="onnx", cache_dir=onnx_cache)


@pytest.fixture(scope="module")
def int8_encoder(onnx_cache: Path) -> Encoder:
    return Encoder("all-MiniLM-L6-v2", backend="onnx-int8", cache_dir=onnx_cache)


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.asarray((a * b).sum(axis=1))


def test_torch_vectors_are_unit_length(encoder: Encoder) -> None:
    vectors = encoder.encode(TEXTS)
    assert vectors.shape == (len(TEXTS), 384)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert encoder.backend == "torch"
    assert encoder.encode([]).shape == (0, 384)


def test_onnx_export_is_local_and_reused(onnx_cache: Path) -> None:
    folder = export_onnx("all-MiniLM-L6-v2", onnx_cache)
    assert folder.is_relative_to(onnx_cache)
    assert {p.name for p in (folder / "onnx").iterdir()} >= {"model.onnx", "model_qint8.onnx"}
    assert [p.name for p in folder.parent.iterdir() if not p.name.startswith(".")] == [folder.name]
    before = {str(p): p.stat().st_mtime_ns for p in folder.rglob("*")}
    assert export_onnx("all-MiniLM-L6-v2", onnx_cache) == folder
    assert {str(p): p.stat().st_mtime_ns for p in folder.rglob("*")} == before


def test_int8_preset_follows_the_cpu() -> None:
    assert int8_target(frozenset({"avx2", "avx512f", "avx512_vnni"})) == "avx512_vnni"
    assert int8_target(frozenset({"avx2", "avx_vnni"})) == "avx512_vnni"
    assert int8_target(frozenset({"avx2", "avx512f", "avx512bw"})) == "avx2"
    assert int8_target(frozenset()) == "avx2"


def test_int8_export_has_the_weights_of_this_cpus_preset(onnx_cache: Path) -> None:
    import onnx

    folder = export_onnx("all-MiniLM-L6-v2", onnx_cache)
    graph = onnx.load(str(folder / ONNX_FILES["onnx-int8"])).graph
    stored = {tensor.name: tensor.data_type for tensor in graph.initializer}
    # The second operand of each integer matmul: a stored weight, or an activation (attention).
    matmuls = [n.input[1] for n in graph.node if n.op_type == "MatMulInteger"]
    weights = {stored[name] for name in matmuls if name in stored}
    expected = onnx.TensorProto.INT8 if int8_target() == "avx512_vnni" else onnx.TensorProto.UINT8
    assert weights == {expected}


def test_onnx_vectors_agree_with_torch(encoder: Encoder, onnx_encoder: Encoder) -> None:
    reference = encoder.encode(TEXTS)
    vectors = onnx_encoder.encode(TEXTS)
    assert vectors.shape == reference.shape
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert _cosines(vectors, reference).min() > 0.999


@pytest.mark.parametrize("backend", ["onnx", "onnx-int8"])
def test_onnx_runtime_repeats_sentence_transformers_own(backend: str, onnx_cache: Path) -> None:
    """Our onnxruntime path gives the vectors sentence-transformers' ONNX backend gives.

    One batch for all texts: int8 activations are scaled per batch, and the two sort texts into
    batches differently (by tokens, by characters).
    """
    batch = len(TEXTS)
    ours = Encoder("all-MiniLM-L6-v2", batch_size=batch, backend=backend, cache_dir=onnx_cache)
    folder = export_onnx("all-MiniLM-L6-v2", onnx_cache)
    theirs = load_sentence_transformer(
        "all-MiniLM-L6-v2",
        str(folder),
        backend="onnx",
        model_kwargs={"file_name": ONNX_FILES[backend]},
    )
    reference = theirs.encode(TEXTS, batch_size=batch, normalize_embeddings=True)
    assert _cosines(ours.encode(TEXTS), reference).min() > 0.99999
    for text in TEXTS:
        single = theirs.encode([text], normalize_embeddings=True)
        assert _cosines(ours.encode([text]), single).min() > 0.99999


def test_onnx_serving_never_imports_torch(onnx_cache: Path) -> None:
    """torch and sentence-transformers take seconds to import: a server on ONNX skips both."""
    script = (
        "import sys; from pathlib import Path; from embeddings.encoder import Encoder; "
        f"Encoder('all-MiniLM-L6-v2', backend='onnx-int8', cache_dir=Path({str(onnx_cache)!r}))"
        ".encode(['What did Putin say?']); "
        "print(sorted({'torch', 'sentence_transformers', 'transformers'} & set(sys.modules)))"
    )
    found = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert found.stdout.strip() == "[]"


def test_damaged_export_is_a_model_error(onnx_cache: Path, tmp_path: Path) -> None:
    damaged = tmp_path / "export"
    shutil.copytree(export_onnx("all-MiniLM-L6-v2", onnx_cache), damaged)
    (damaged / PIPELINE_FILE).unlink()
    with pytest.raises(ModelLoadError, match="cannot load its ONNX export"):
        OnnxSentenceModel("all-MiniLM-L6-v2", damaged, ONNX_FILES["onnx-int8"])


def test_int8_vectors_agree_with_torch(encoder: Encoder, int8_encoder: Encoder) -> None:
    """Quantised weights move vectors a little; a degenerate text (one word 400 times) most."""
    cosines = _cosines(int8_encoder.encode(TEXTS), encoder.encode(TEXTS))
    assert cosines[:-1].mean() > 0.985
    assert cosines[:-1].min() > 0.97
    assert cosines[-1] > 0.9


def test_int8_ranks_seed_passages_like_torch(encoder: Encoder, int8_encoder: Encoder) -> None:
    paragraphs = [line.strip() for line in SEED_LINES if len(line.split()) > 8]
    questions = ["What did Putin say about training?", "What did Shoigu say about the CSTO?"]
    for backend in (encoder, int8_encoder):
        assert backend.encode(paragraphs).shape == (len(paragraphs), 384)
    top_torch = np.argmax(encoder.encode(questions) @ encoder.encode(paragraphs).T, axis=1)
    top_int8 = np.argmax(int8_encoder.encode(questions) @ int8_encoder.encode(paragraphs).T, axis=1)
    assert top_int8.tolist() == top_torch.tolist()


@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_batches_keep_input_order(backend: str, onnx_cache: Path) -> None:
    """Texts are sorted by token count into batches; the vectors come back in input order."""
    small_batches = Encoder("all-MiniLM-L6-v2", batch_size=2, backend=backend, cache_dir=onnx_cache)
    one_by_one = np.vstack([small_batches.encode([text]) for text in TEXTS])
    assert np.allclose(small_batches.encode(TEXTS), one_by_one, atol=1e-5)


def test_batch_encodes_at_once_take_turns_with_the_core_sessions(onnx_cache: Path) -> None:
    """Batches run side by side on a one-thread session per core: encodes from several threads
    at once share those sessions and each gets the vectors it gets alone."""
    encoder = Encoder("all-MiniLM-L6-v2", batch_size=2, backend="onnx-int8", cache_dir=onnx_cache)
    texts = TEXTS * 3
    alone = encoder.encode(texts)
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(encoder.encode, [texts] * 4))
    for vectors in together:
        assert np.array_equal(vectors, alone)


def test_int8_batches_stay_close_to_single_texts(int8_encoder: Encoder) -> None:
    """int8 activations are scaled per batch, so batch mates move a vector, only slightly."""
    one_by_one = np.vstack([int8_encoder.encode([text]) for text in TEXTS])
    assert _cosines(int8_encoder.encode(TEXTS), one_by_one).min() > 0.97


def test_token_counts_match_torch(encoder: Encoder, onnx_encoder: Encoder) -> None:
    for text in TEXTS:
        assert onnx_encoder.count_tokens(text) == encoder.count_tokens(text)
    assert onnx_encoder.window_tokens == encoder.window_tokens == 254
    assert onnx_encoder.dimension == encoder.dimension == 384
    assert onnx_encoder.name == "all-MiniLM-L6-v2"


def test_unknown_backend_is_a_model_error() -> None:
    with pytest.raises(ModelLoadError, match="unknown backend 'tpu'"):
        Encoder("all-MiniLM-L6-v2", backend="tpu")
    assert BACKENDS == ("torch", "onnx", "onnx-int8")


def test_missing_model_cannot_be_exported(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="no-such-model"):
        Encoder(str(tmp_path / "no-such-model"), backend="onnx", cache_dir=tmp_path / "cache")
