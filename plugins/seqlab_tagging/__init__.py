"""seqlab plugin: sequence labelling (a tag per token) on a pretrained encoder.

Softmax or CRF head, forward and optional backward encoder, CoNLL / CoNLL-U readers and
writers, token accuracy and span P/R/F1; `seqlab finetune tag` and the tagger's `seqlab predict`.
"""
