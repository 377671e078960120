"""The index manifest: what the index files hold and how they were built, with their checksums.

It is kept twice, as ``manifest.json`` beside the files and in the store's meta, in the JSON
every version wrote; a manifest of any earlier version loads, what it lacks being None.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["INDEX_FORMAT", "LexicalFiles", "Manifest", "ManifestIndexes", "VectorFile"]

_CHECKSUM = "xxh3_128"  # the manifest names the hash, so one made with another is not trusted
# How the index files hold their vectors; a file whose layout changed in a later format than
# its own is rebuilt, not read (qa.indexes).
# 1 (a manifest without one): the sentences' index under each sentence's id. 2: under its
# passage's (a search finds the passages themselves).
INDEX_FORMAT = 2


class _Record(BaseModel):
    # Fields are set by name and written by their JSON names ("xxh3_128").
    model_config = ConfigDict(frozen=True, validate_by_name=True, serialize_by_alias=True)


class VectorFile(_Record):
    file: str
    # None in a manifest checked with another hash (sha256, before xxh3): it vouches for nothing.
    checksum: str | None = Field(None, alias=_CHECKSUM)
    count: int
    deleted: int = 0  # of ``count``, rows deleted from the store since: searches skip them


class LexicalFiles(_Record):
    dir: str
    checksums: dict[str, str] | None = Field(None, alias=_CHECKSUM)  # by file name
    deleted: int = 0  # passages it holds that were deleted from the store since


class ManifestIndexes(_Record):
    passages: VectorFile
    sentences: VectorFile
    lexical: LexicalFiles | None = None  # the first release kept no BM25 files

    def vector_checksums(self) -> dict[str, str] | None:
        """Each vector file's checksum, by table; None unless every part carries one of the
        hash this version trusts."""
        checksums = {"passages": self.passages.checksum, "sentences": self.sentences.checksum}
        if self.lexical is None or self.lexical.checksums is None:
            return None
        trusted = {table: c for table, c in checksums.items() if c is not None}
        return trusted if len(trusted) == len(checksums) else None


class Manifest(_Record):
    """The store the index files were derived from (its counts and fingerprint), the model
    that made their vectors, and each file's checksum."""

    model: str
    dimension: int
    articles: int
    passages: int
    sentences: int
    fingerprint: str
    generation: int  # counts the manifests written for this store
    # The store's data generation the indexes were derived from; None before it was recorded.
    data_generation: int | None = None
    indexes: ManifestIndexes
    format: int = 1  # INDEX_FORMAT as it was written; a manifest without one is of format 1
