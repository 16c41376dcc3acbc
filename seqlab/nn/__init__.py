"""Networks: the encoder protocol, the stateful RNN encoder and the model that puts a head on it.

`encoder` holds the `Encoder` protocol, `StatefulEncoder` (RNN / GRU / LSTM with carried
state and AWD-LSTM dropouts), `LMReader` (the stateless side of encoders built on pretrained
LMs), `Memo` (the outputs of frozen LMs kept for a run) and `encoder_from_config`; `model`
holds `Head` and `SeqModel`; `size` tells a config's parameter count and whether it fits
this machine. May import `seqlab.data`, the top-level `seqlab.settings` and
`seqlab.registry`; nothing about files, training or the CLI.
"""
