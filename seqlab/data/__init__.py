"""Data: from text on disk to batches of ids. The bottom layer.

Vocab and the special tokens (`vocab`), word and character tokenizers (`wordtokens`,
`chartokens`), reading text files safely (`textfiles`) and labelled files (`labelled`), the
token cache built once per corpus and settings (`tokenize`, memory-mapped `.npy` through
`npyfile`), registered corpora (`corpus`), the two loaders — `BPTTStream` for language
models (`stream`) and `PaddedBatches` for labelled sequences (`batches`, with `Batch`) —
and safe file writing used by every layer (`files`). Imports only numpy, torch tensors,
`tokenizers` and the top-level `seqlab.settings`; never a layer above.
"""
