"""SeqModel's layer groups (discriminative learning rates, gradual unfreezing): the
encoder's groups bottom to top, the head last, a tied parameter in its lower group only."""

from torch import nn

from seqlab.nn.encoder import EncoderConfig, StatefulEncoder
from seqlab.nn.model import Head, SeqModel
from seqlab_human_numbers.models import LoopConfig, LoopEncoder
from seqlab_tagging.encoder import TaggerEncoder
from seqlab_tagging.head import TagHead

V = 12


class TiedLMHead(Head):
    kind = "test-tied"

    def __init__(self, encoder):
        super().__init__()
        self.decoder = nn.Linear(encoder.out_size, V)
        self.decoder.weight = encoder.embedding.weight


def ids(*modules_or_params):
    """The ids of parameters in order: a module stands for all of its own."""
    out = []
    for m in modules_or_params:
        out += [id(p) for p in m.parameters()] if isinstance(m, nn.Module) else [id(m)]
    return out


def group_ids(model):
    return [[id(p) for p in g] for g in model.layer_groups()]


def encoder(layers, bn=False, hidden=6, backward=False):
    config = EncoderConfig(V, hidden=hidden, layers=layers, bn=bn, backward=backward)
    return StatefulEncoder(config)


def test_lm_groups_embedding_then_each_layer_then_norm_and_head_without_the_tied_weight():
    enc = encoder(layers=2, bn=True)
    head = TiedLMHead(enc)
    model = SeqModel(enc, head)
    assert group_ids(model) == [
        ids(enc.embedding),  # the decoder's weight is this one: it stays here only
        ids(enc.rnns[0]),
        ids(enc.rnns[1]),
        ids(enc.bn, head.decoder.bias),
    ]
    enc = encoder(layers=1)  # no batch norm: the head alone on top
    head = TiedLMHead(enc)
    assert group_ids(SeqModel(enc, head)) == [
        ids(enc.embedding),
        ids(enc.rnns[0]),
        ids(head.decoder.bias),
    ]


def test_tagger_pairs_directions_of_different_depth_aligned_at_the_top():
    fwd, bwd = encoder(layers=3), encoder(layers=1, bn=True, hidden=4, backward=True)
    enc = TaggerEncoder([fwd, bwd], bos_idx=2, pad_idx=1)
    head = TagHead(enc, ["A", "B"], crf=True)
    assert group_ids(SeqModel(enc, head)) == [
        ids(fwd.embedding, bwd.embedding),
        ids(fwd.rnns[0]),
        ids(fwd.rnns[1]),
        ids(fwd.rnns[2], bwd.rnns[0]),  # both top layers: unfrozen together
        ids(bwd.bn, head),
    ]


def test_every_parameter_is_in_exactly_one_group_for_every_encoder_kind():
    fwd_only = TaggerEncoder([encoder(layers=2, bn=True)], bos_idx=2, pad_idx=1)
    loop = LoopEncoder(LoopConfig(V, hidden=6, bn=True))
    for enc in (encoder(layers=3, bn=True), fwd_only, loop):
        model = SeqModel(enc, TiedLMHead(enc) if enc is loop else TagHead(enc, ["A"]))
        flat = [i for g in group_ids(model) for i in g]
        assert sorted(flat) == sorted(ids(model)), type(enc).__name__
        assert len(enc.layer_groups()) == len(model.layer_groups())  # the head joins the top
