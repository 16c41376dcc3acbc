import torch

# The test models are tiny: one thread is as fast, and several threads spin badly
# when the machine is busy (CI shares 2 cores).
torch.set_num_threads(1)
