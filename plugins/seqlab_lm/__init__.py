"""seqlab plugin: the language-model head and the `pretrain` command."""
