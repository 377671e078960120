"""Sentence embeddings and the FAISS vector index; knows nothing of articles."""
