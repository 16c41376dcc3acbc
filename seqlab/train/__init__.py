"""Training: the loop and everything around it.

`trainer` holds `Trainer` (one-cycle AdamW, evaluation, best/last checkpoints, exact resume)
and `TrainConfig`; `settings` the training settings every command shares; `events` the
protocol the Trainer's listeners see; `runlog` (progress bar, epoch table, metrics.csv,
curves.png, through `plot`) and `tensorboard` are such listeners and never import the
Trainer; `lr_find` is the learning-rate finder; `signals`, `distributed` and `threads` are
Ctrl-C, torchrun and thread counts. May import `seqlab.data`, `seqlab.nn` and `seqlab.store`.
"""
