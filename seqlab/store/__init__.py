"""Storage: checkpoints, the checks every model file passes, model directories, run directories.

`checkpoint` writes and commits safetensors + JSON checkpoints and loads them; `validate`
checks a file before anything is built from it; `errors` holds `CheckpointError` (below
both, so they never import each other); `modeldir` is the exported model directory;
`rundir` is a run directory's lock and contents. May import `seqlab.data` and `seqlab.nn`.
"""
