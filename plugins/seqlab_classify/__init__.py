"""seqlab plugin: text classification on a pretrained encoder (ULMFiT's classifier).

head.py      masked concat pooling -> MLP with batch norm and dropout
data.py      texts (read by seqlab.data.labelled) -> token ids with the run's vocab;
             labels -> class ids
metrics.py   accuracy, macro-F1, scikit-learn's report, a confusion-matrix PNG
finetune.py  `seqlab finetune classify`
predict.py   `seqlab predict` for classifier runs
"""
