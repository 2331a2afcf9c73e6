"""
airbench94_muon_cpu.py
CPU port of KellerJordan/cifar10-airbench airbench94_muon.py (commit f1c599c4af24aca803e3e65a6a7e52a502e09d0e,
MIT licence, (c) Keller Jordan), with minimal changes; the recipe itself is unchanged. The numbered list of
changes is in README.md beside this file; each change is marked "CPU port (n)" below.

The reference: "Runs in 2.59 seconds on a 400W NVIDIA A100 using torch==2.4.1.
Attains 94.01 mean accuracy (n=200 trials). Descends from
https://github.com/tysam-code/hlb-CIFAR10/blob/main/main.py"

Usage (same interface as ../../../shared/peer/airbench94_cpu.py where it applies):
  python airbench94_muon_cpu.py --data D.npz [--widths 64,256,256] [--epochs 8] [--bf16] [--threads 2] [--seed S]
  python airbench94_muon_cpu.py --data D.npz --bench 5 --warmup 2 [--widths ...] [--bf16]   (step time only)
  --train-size N / --test-size N take a fixed random subset of N images (smoke checks only; default: all).
"""

#############################################
#                  Setup                    #
#############################################

import argparse
import json
import time
from math import ceil

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

# CPU port (2): no torchvision (Normalize done by hand), no torch.backends.cudnn.benchmark,
# and the script does not read its own source to save it in a log (CPU port (11)).

#############################################
#               Muon optimizer              #
#############################################

# CPU port (3): no @torch.compile. The iteration itself is unchanged, bfloat16 included (in both
# float32 and --bf16 runs: it is the optimizer's own arithmetic, not the model's precision).
def zeropower_via_newtonschulz5(G, steps=3, eps=1e-7):
    """
    Newton-Schulz iteration to compute the zeroth power / orthogonalization of G. We opt to use a
    quintic iteration whose coefficients are selected to maximize the slope at zero. For the purpose
    of minimizing steps, it turns out to be empirically effective to keep increasing the slope at
    zero even beyond the point where the iteration no longer converges all the way to one everywhere
    on the interval. This iteration therefore does not produce UV^T but rather something like US'V^T
    where S' is diagonal with S_{ii}' \\sim Uniform(0.5, 1.5), which turns out not to hurt model
    performance at all relative to UV^T, where USV^T = G is the SVD.
    """
    assert len(G.shape) == 2
    a, b, c = (3.4445, -4.7750,  2.0315)
    X = G.bfloat16()
    X /= (X.norm() + eps) # ensure top singular value <= 1
    if G.size(0) > G.size(1):
        X = X.T
    for _ in range(steps):
        A = X @ X.T
        B = b * A + c * A @ A
        X = a * X + B @ X
    if G.size(0) > G.size(1):
        X = X.T
    return X

class Muon(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, nesterov=False):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if nesterov and momentum <= 0:
            raise ValueError("Nesterov momentum requires a momentum")
        defaults = dict(lr=lr, momentum=momentum, nesterov=nesterov)
        super().__init__(params, defaults)

    def step(self):
        for group in self.param_groups:
            lr = group["lr"]
            momentum = group["momentum"]
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                state = self.state[p]

                if "momentum_buffer" not in state.keys():
                    state["momentum_buffer"] = torch.zeros_like(g)
                buf = state["momentum_buffer"]
                buf.mul_(momentum).add_(g)
                g = g.add(buf, alpha=momentum) if group["nesterov"] else buf

                p.data.mul_(len(p.data)**0.5 / p.data.norm()) # normalize the weight
                update = zeropower_via_newtonschulz5(g.reshape(len(g), -1)).view(g.shape) # whiten the update
                p.data.add_(update, alpha=-lr) # take a step

#############################################
#                DataLoader                 #
#############################################

CIFAR_MEAN = torch.tensor((0.4914, 0.4822, 0.4465))
CIFAR_STD = torch.tensor((0.2470, 0.2435, 0.2616))

def normalize(images):  # CPU port (2): torchvision.transforms.Normalize(CIFAR_MEAN, CIFAR_STD) on NCHW
    return (images - CIFAR_MEAN.view(1, 3, 1, 1)) / CIFAR_STD.view(1, 3, 1, 1)

def batch_flip_lr(inputs):
    flip_mask = (torch.rand(len(inputs), device=inputs.device) < 0.5).view(-1, 1, 1, 1)
    return torch.where(flip_mask, inputs.flip(-1), inputs)

def batch_crop(images, crop_size):
    r = (images.size(-1) - crop_size)//2
    shifts = torch.randint(-r, r+1, size=(len(images), 2), device=images.device)
    images_out = torch.empty((len(images), 3, crop_size, crop_size), device=images.device, dtype=images.dtype)
    # The two cropping methods in this if-else produce equivalent results, but the second is faster for r > 2.
    if r <= 2:
        for sy in range(-r, r+1):
            for sx in range(-r, r+1):
                mask = (shifts[:, 0] == sy) & (shifts[:, 1] == sx)
                images_out[mask] = images[mask, :, r+sy:r+sy+crop_size, r+sx:r+sx+crop_size]
    else:
        images_tmp = torch.empty((len(images), 3, crop_size, crop_size+2*r), device=images.device, dtype=images.dtype)
        for s in range(-r, r+1):
            mask = (shifts[:, 0] == s)
            images_tmp[mask] = images[mask, :, r+s:r+s+crop_size, :]
        for s in range(-r, r+1):
            mask = (shifts[:, 1] == s)
            images_out[mask] = images_tmp[mask, :, :, r+s:r+s+crop_size]
    return images_out

class CifarLoader:

    # CPU port (5): images and labels come in as arrays (uint8 NHWC, int labels) from an npz,
    # not from torchvision's download / torch.load onto the GPU.
    def __init__(self, images, labels, train=True, batch_size=500, aug=None):
        self.images, self.labels = torch.tensor(images), torch.tensor(labels).long()
        # It's faster to load+process uint8 data than to load preprocessed fp16 data
        # CPU port (4): float32 instead of half
        self.images = (self.images.float() / 255).permute(0, 3, 1, 2).to(memory_format=torch.channels_last)

        self.normalize = normalize
        self.proc_images = {} # Saved results of image processing to be done on the first epoch
        self.epoch = 0

        self.aug = aug or {}
        for k in self.aug.keys():
            assert k in ["flip", "translate"], "Unrecognized key: %s" % k

        self.batch_size = batch_size
        self.drop_last = train
        self.shuffle = train

    def __len__(self):
        return len(self.images)//self.batch_size if self.drop_last else ceil(len(self.images)/self.batch_size)

    def __iter__(self):

        if self.epoch == 0:
            images = self.proc_images["norm"] = self.normalize(self.images)
            # Pre-flip images in order to do every-other epoch flipping scheme
            if self.aug.get("flip", False):
                images = self.proc_images["flip"] = batch_flip_lr(images)
            # Pre-pad images to save time when doing random translation
            pad = self.aug.get("translate", 0)
            if pad > 0:
                self.proc_images["pad"] = F.pad(images, (pad,)*4, "reflect")

        if self.aug.get("translate", 0) > 0:
            images = batch_crop(self.proc_images["pad"], self.images.shape[-2])
        elif self.aug.get("flip", False):
            images = self.proc_images["flip"]
        else:
            images = self.proc_images["norm"]
        # Flip all images together every other epoch. This increases diversity relative to random flipping
        if self.aug.get("flip", False):
            if self.epoch % 2 == 1:
                images = images.flip(-1)

        self.epoch += 1

        indices = (torch.randperm if self.shuffle else torch.arange)(len(images), device=images.device)
        for i in range(len(self)):
            idxs = indices[i*self.batch_size:(i+1)*self.batch_size]
            # CPU port (6): keep the batch channels_last (batch_crop hands back a plain NCHW tensor),
            # as airbench94_cpu.py does
            yield (images[idxs].contiguous(memory_format=torch.channels_last), self.labels[idxs])

#############################################
#            Network Definition             #
#############################################

# note the use of low BatchNorm stats momentum
class BatchNorm(nn.BatchNorm2d):
    def __init__(self, num_features, momentum=0.6, eps=1e-12):
        super().__init__(num_features, eps=eps, momentum=1-momentum)
        self.weight.requires_grad = False
        # Note that PyTorch already initializes the weights to one and bias to zero

class Conv(nn.Conv2d):
    def __init__(self, in_channels, out_channels):
        super().__init__(in_channels, out_channels, kernel_size=3, padding="same", bias=False)

    def reset_parameters(self):
        super().reset_parameters()
        w = self.weight.data
        torch.nn.init.dirac_(w[:w.size(1)])

class ConvGroup(nn.Module):
    def __init__(self, channels_in, channels_out):
        super().__init__()
        self.conv1 = Conv(channels_in,  channels_out)
        self.pool = nn.MaxPool2d(2)
        self.norm1 = BatchNorm(channels_out)
        self.conv2 = Conv(channels_out, channels_out)
        self.norm2 = BatchNorm(channels_out)
        self.activ = nn.GELU()

    def forward(self, x):
        x = self.conv1(x)
        x = self.pool(x)
        x = self.norm1(x)
        x = self.activ(x)
        x = self.conv2(x)
        x = self.norm2(x)
        x = self.activ(x)
        return x

class CifarNet(nn.Module):
    # CPU port (7): the widths are a parameter (the reference fixes 64/256/256, the default here)
    def __init__(self, widths=(64, 256, 256)):
        super().__init__()
        widths = dict(block1=widths[0], block2=widths[1], block3=widths[2])
        whiten_kernel_size = 2
        whiten_width = 2 * 3 * whiten_kernel_size**2
        self.whiten = nn.Conv2d(3, whiten_width, whiten_kernel_size, padding=0, bias=True)
        self.whiten.weight.requires_grad = False
        self.layers = nn.Sequential(
            nn.GELU(),
            ConvGroup(whiten_width,     widths["block1"]),
            ConvGroup(widths["block1"], widths["block2"]),
            ConvGroup(widths["block2"], widths["block3"]),
            nn.MaxPool2d(3),
        )
        self.head = nn.Linear(widths["block3"], 10, bias=False)
        # CPU port (4): everything float32 (the reference: BatchNorm float, every other module half)
        self.float()

    def reset(self):
        for m in self.modules():
            if type(m) in (nn.Conv2d, Conv, BatchNorm, nn.Linear):
                m.reset_parameters()
        w = self.head.weight.data
        w *= 1 / w.std()

    def init_whiten(self, train_images, eps=5e-4):
        c, (h, w) = train_images.shape[1], self.whiten.weight.shape[2:]
        patches = train_images.unfold(2,h,1).unfold(3,w,1).transpose(1,3).reshape(-1,c,h,w).float()
        patches_flat = patches.view(len(patches), -1)
        est_patch_covariance = (patches_flat.T @ patches_flat) / len(patches_flat)
        eigenvalues, eigenvectors = torch.linalg.eigh(est_patch_covariance, UPLO="U")
        eigenvectors_scaled = eigenvectors.T.reshape(-1,c,h,w) / torch.sqrt(eigenvalues.view(-1,1,1,1) + eps)
        self.whiten.weight.data[:] = torch.cat((eigenvectors_scaled, -eigenvectors_scaled))

    def forward(self, x, whiten_bias_grad=True):
        b = self.whiten.bias
        x = F.conv2d(x, self.whiten.weight, b if whiten_bias_grad else b.detach())
        x = self.layers(x)
        x = x.view(len(x), -1)
        return self.head(x) / x.size(-1)

############################################
#               Evaluation                 #
############################################

BF16 = False  # set from --bf16 in main()

def autocast():  # CPU port (4): optional bf16 autocast instead of a half-precision model
    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=BF16)

def infer(model, loader, tta_level=0):

    # Test-time augmentation strategy (for tta_level=2):
    # 1. Flip/mirror the image left-to-right (50% of the time).
    # 2. Translate the image by one pixel either up-and-left or down-and-right (50% of the time,
    #    i.e. both happen 25% of the time).
    #
    # This creates 6 views per image (left/right times the two translations and no-translation),
    # which we evaluate and then weight according to the given probabilities.

    def infer_basic(inputs, net):
        return net(inputs).clone()

    def infer_mirror(inputs, net):
        return 0.5 * net(inputs) + 0.5 * net(inputs.flip(-1))

    def infer_mirror_translate(inputs, net):
        logits = infer_mirror(inputs, net)
        pad = 1
        padded_inputs = F.pad(inputs, (pad,)*4, "reflect")
        inputs_translate_list = [
            padded_inputs[:, :, 0:32, 0:32],
            padded_inputs[:, :, 2:34, 2:34],
        ]
        logits_translate_list = [infer_mirror(inputs_translate, net)
                                 for inputs_translate in inputs_translate_list]
        logits_translate = torch.stack(logits_translate_list).mean(0)
        return 0.5 * logits + 0.5 * logits_translate

    model.eval()
    test_images = loader.normalize(loader.images)
    infer_fn = [infer_basic, infer_mirror, infer_mirror_translate][tta_level]
    with torch.no_grad(), autocast():  # CPU port (4): autocast, logits back to float32
        return torch.cat([infer_fn(inputs, model).float() for inputs in test_images.split(2000)])

def evaluate(model, loader, tta_level=0):
    logits = infer(model, loader, tta_level)
    return (logits.argmax(1) == loader.labels).float().mean().item()

############################################
#                Training                  #
############################################

def main(args, model):

    batch_size = 2000
    bias_lr = 0.053
    head_lr = 0.67
    wd = 2e-6 * batch_size

    # CPU port (5): data from the npz; --train-size / --test-size (smoke checks) take a fixed random
    # subset (numpy seed 0, whatever --seed), since the npz's test set is sorted by class
    data = np.load(args.data)
    def subset(x, y, n):
        if not n or n >= len(y):
            return x, y
        keep = np.sort(np.random.default_rng(0).permutation(len(y))[:n])
        return x[keep], y[keep]
    test_loader = CifarLoader(*subset(data["xte"], data["yte"], args.test_size), train=False, batch_size=2000)
    train_loader = CifarLoader(*subset(data["xtr"], data["ytr"], args.train_size), train=True,
                               batch_size=batch_size, aug=dict(flip=True, translate=2))
    # CPU port (8): no "warmup" run with random labels (it only warmed up torch.compile);
    # --epochs stands for the reference's 8 (default 8); the whitening bias still trains for 3 epochs
    total_train_steps = ceil(args.epochs * len(train_loader))
    whiten_bias_train_steps = ceil(3 * len(train_loader))

    # Create optimizers and learning rate schedulers
    filter_params = [p for p in model.parameters() if len(p.shape) == 4 and p.requires_grad]
    norm_biases = [p for n, p in model.named_parameters() if "norm" in n and p.requires_grad]
    param_configs = [dict(params=[model.whiten.bias], lr=bias_lr, weight_decay=wd/bias_lr),
                     dict(params=norm_biases,         lr=bias_lr, weight_decay=wd/bias_lr),
                     dict(params=[model.head.weight], lr=head_lr, weight_decay=wd/head_lr)]
    optimizer1 = torch.optim.SGD(param_configs, momentum=0.85, nesterov=True, fused=True)
    optimizer2 = Muon(filter_params, lr=0.24, momentum=0.6, nesterov=True)
    optimizers = [optimizer1, optimizer2]
    for opt in optimizers:
        for group in opt.param_groups:
            group["initial_lr"] = group["lr"]

    n_params = sum(p.numel() for p in model.parameters())
    print(f"widths {list(args.widths)}, {n_params} parameters, train {len(train_loader.images)} images, "
          f"test {len(test_loader.images)} images, batch {batch_size}, {len(train_loader)} steps/epoch, "
          f"{total_train_steps} steps, threads {torch.get_num_threads()}, bf16 autocast {BF16}, "
          f"torch {torch.__version__}", flush=True)

    # CPU port (9): time.perf_counter instead of CUDA events (the CPU runs synchronously)
    time_seconds = 0.0
    t_start = None
    def start_timer():
        nonlocal t_start
        t_start = time.perf_counter()
    def stop_timer():
        nonlocal time_seconds
        dt = time.perf_counter() - t_start
        time_seconds += dt
        return dt

    model.reset()
    step = 0

    # Initialize the whitening layer using training images
    start_timer()
    train_images = train_loader.normalize(train_loader.images[:5000])
    model.init_whiten(train_images)
    stop_timer()

    def train_step(inputs, labels, step):
        """The reference's training step (its loop body), shared by the timed bench and the training loop."""
        with autocast():  # CPU port (4)
            outputs = model(inputs, whiten_bias_grad=(step < whiten_bias_train_steps))
            # CPU port (4): the loss on float32 logits; the loss is kept for the log (12)
            loss = F.cross_entropy(outputs.float(), labels, label_smoothing=0.2, reduction="sum")
        loss.backward()
        for group in optimizer1.param_groups[:1]:
            group["lr"] = group["initial_lr"] * (1 - step / whiten_bias_train_steps)
        for group in optimizer1.param_groups[1:]+optimizer2.param_groups:
            group["lr"] = group["initial_lr"] * (1 - step / total_train_steps)
        for opt in optimizers:
            opt.step()
        model.zero_grad(set_to_none=True)
        return outputs, loss

    if args.bench:
        # CPU port (10): step timing only: `warmup` untimed steps, then `bench` timed ones, each the
        # same step as the training loop below (data loading included); the loader starts a new epoch
        # when one runs out (only with a small --train-size)
        def batches():
            while True:
                yield from train_loader
        it = batches()
        model.train()
        times, losses = [], []
        for step in range(args.warmup + args.bench):
            t = time.perf_counter()
            inputs, labels = next(it)
            _, loss = train_step(inputs, labels, step)
            times.append(time.perf_counter() - t)
            losses.append(loss.item() / len(labels))
            print(f"step {step}: {times[-1]:.3f}s, train loss {losses[-1]:.4f}", flush=True)
        timed = times[args.warmup:]
        step_s = float(np.median(timed))
        out = {"widths": list(args.widths), "bf16": BF16, "threads": torch.get_num_threads(),
               "train_size": len(train_loader.images), "batch_size": batch_size,
               "step_s_median": round(step_s, 3), "step_s_mean": round(float(np.mean(timed)), 3),
               "images_per_s": round(batch_size / step_s, 1),
               "est_train_s": round(step_s * total_train_steps, 1), "steps": total_train_steps,
               "epochs": args.epochs, "first_step_s": round(times[0], 3),
               "losses": [round(l, 4) for l in losses]}
        print(json.dumps(out))
        return

    epoch_seconds = []
    for epoch in range(ceil(total_train_steps / len(train_loader))):

        ####################
        #     Training     #
        ####################

        start_timer()
        model.train()
        for inputs, labels in train_loader:
            outputs, loss = train_step(inputs, labels, step)
            step += 1
            if step >= total_train_steps:
                break
        epoch_seconds.append(stop_timer())

        ####################
        #    Evaluation    #
        ####################

        # Save the accuracy and loss from the last training batch of the epoch
        train_acc = (outputs.detach().argmax(1) == labels).float().mean().item()
        train_loss = loss.item() / len(labels)
        # CPU port (12): the untimed per-epoch test evaluation is optional (--eval-every-epoch)
        val = f", val acc {evaluate(model, test_loader, tta_level=0):.4f}" if args.eval_every_epoch else ""
        print(f"epoch {epoch + 1}: train loss {train_loss:.4f}, train acc {train_acc:.4f}{val}, "
              f"{epoch_seconds[-1]:.1f}s (total {time_seconds:.1f}s)", flush=True)

    ####################
    #  TTA Evaluation  #
    ####################

    train_time_seconds = time_seconds
    t0 = time.perf_counter()
    acc0 = evaluate(model, test_loader, tta_level=0)  # untimed, for the record (12)
    t1 = time.perf_counter()
    start_timer()
    tta_val_acc = evaluate(model, test_loader, tta_level=2)
    eval_s_tta2 = stop_timer()
    # CPU port (11): one JSON line instead of the reference's table, log file and 200-run mean
    out = {"widths": list(args.widths), "epochs": args.epochs, "bf16": BF16, "seed": args.seed,
           "threads": torch.get_num_threads(), "train_size": len(train_loader.images),
           "test_size": len(test_loader.images), "steps": total_train_steps,
           "train_time_s": round(train_time_seconds, 1),
           "epoch_seconds": [round(s, 1) for s in epoch_seconds],
           "test_acc_tta0": acc0, "test_acc_tta2": tta_val_acc,
           "eval_s_tta0": round(t1 - t0, 1), "eval_s_tta2": round(eval_s_tta2, 1),
           "time_seconds": round(time_seconds, 1)}  # the reference's timed total: whitening + training + TTA eval
    print(json.dumps(out))
    return tta_val_acc

if __name__ == "__main__":
    # CPU port (1): command-line options as in airbench94_cpu.py; one run per call, seeded
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True, help="npz with xtr, ytr, xte, yte (uint8 NHWC, int labels)")
    ap.add_argument("--widths", default="64,256,256")
    ap.add_argument("--epochs", type=float, default=8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--bf16", action="store_true", help="torch.autocast('cpu', dtype=torch.bfloat16) on forward+loss")
    ap.add_argument("--bench", type=int, default=0, help="time this many training steps and exit")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--eval-every-epoch", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--train-size", type=int, default=0, help="a fixed random subset of N training images (smoke checks; 0 = all)")
    ap.add_argument("--test-size", type=int, default=0, help="a fixed random subset of N test images (smoke checks; 0 = all)")
    args = ap.parse_args()
    args.widths = [int(w) for w in args.widths.split(",")]
    BF16 = args.bf16

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    # CPU port (1, 3): on the CPU, channels_last kept, no model.compile(mode="max-autotune")
    model = CifarNet(args.widths).to(memory_format=torch.channels_last)
    main(args, model)
