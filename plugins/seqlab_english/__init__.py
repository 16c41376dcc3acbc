"""English language models shipped with seqlab: a forward and a backward character LM
trained on english-text (Wikipedia and Project Gutenberg books), named `english`.

    seqlab finetune tag --encoder english --backward-encoder english --train T --valid V
    seqlab pretrain my-text/ --init english        (continue the forward one on your text)

The weights are files of this package (no download at run time), checked against the
sha256 recorded in `shipped.py` before they are read. MODEL_CARD.md says how they were made.
"""
