"""seqlab plugin: text classification, with no LM (n-grams + a word view) or on pretrained
LMs (ULMFiT's classifier), the n-gram channel beside either.

ngrams.py        hashed word and character n-grams per token (stable CRC-32 buckets)
ngram_encoder.py an encoder (or none) with the n-gram EmbeddingBag beside it
wordview.py      the default classifier's own word view: embeddings, word dropout, BiGRU
explain.py       which n-grams weighed most for a prediction

head.py      masked concat pooling -> MLP with batch norm and dropout
data.py      texts (read by seqlab.data.labelled) -> token ids with the run's vocab;
             labels -> class ids
metrics.py   accuracy, macro-F1, scikit-learn's report, a confusion-matrix PNG
finetune.py  `seqlab finetune classify`
predict.py   `seqlab predict` for classifier runs
"""
