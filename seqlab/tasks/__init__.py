"""Tasks: what the plugins' tasks share — transfer from pretrained LMs, fine-tuning, prediction.

`transfer` loads a pretrained encoder into a new model (vocab matching) and holds the ULMFiT
recipe (discriminative rates, gradual unfreezing); `finetune` is the one fine-tuning path
every task takes (read, build, train, score); `predict` loads a run or model directory and
dispatches to its head's predictor. May import every layer below: data, nn, store, train.
"""
