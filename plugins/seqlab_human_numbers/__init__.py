"""seqlab plugin: fastai lesson 7's human-numbers corpus, generated in code."""
