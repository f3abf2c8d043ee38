"""Explainers: models that write explanations (GRU seq2seq, n-gram and recurrent LMs)."""
