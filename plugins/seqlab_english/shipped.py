"""Written by seqlab_english.build: what the shipped files must be."""

SHA256 = {
    "forward.json": "0ff48ddb9b43e48e0f3a10891eda6af1045b8ad44acc13b53405fbac3c142c3d",
    "forward.safetensors": "c1c5af8d6a51965817f6fa4e5e9d33b2f233540502f4f7f79a7c0f9c2777bec5",
    "backward.json": "0412f47945948b411069ad4aa1dd9f1e5542ba7a3f77e28783e5edf48517b521",
    "backward.safetensors": "5e465d4e6d655642b3723b6d96036c7048c82b838ea8563591f4700e42191154",
}

# bits per character of the float16 weights on lms/heldout.txt
BPC = {"forward": 1.8688, "backward": 1.8802}
