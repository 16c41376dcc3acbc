"""What the benchmarks share: running a command on one thread and timing it (proc), the peers'
own virtual environment (peers), CoNLL-U blocks (conllu), the GUM tagging data and its scorer
(gum), GUM sentence genre (genre), a tagging row (tagrows), LMs pretrained once per run (lms),
and tables (mean ± sd, markdown, the held-out cut). A benchmark script is the comparison
itself: its rows, its options, its table."""
