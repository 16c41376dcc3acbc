"""The command line: the `seqlab` click group (`main`), the option kit every command uses
(`options`: shared options, options generated from settings, one-line user errors) and the
body of every `finetune TASK` command (`finetune_command`). The only layer that imports
click; it may import everything below it and the facade (`seqlab.api`), nothing imports it
back except the plugins' commands.
"""
