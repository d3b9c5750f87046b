/* clae: train and use autoencoders on any OpenCL device. main only dispatches. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct {
    const char *name;
    int (*run)(int, char **);
    const char *help;
} commands[] = {
    {"devices", cmd_devices, "list OpenCL platforms and devices"},
    {"train", cmd_train,
     "train a config: clae train CONFIG [--device D] [--set section.key=value]..."},
    {"eval", cmd_eval, "test-set metrics of a trained run: clae eval RUN [--best]"},
    {"encode", cmd_encode,
     "a run's codes of a split as .npy (+ CSV): clae encode RUN [--split S|all]"},
    {"decode", cmd_decode, "codes from a .npy back to images: clae decode RUN CODES.npy [-o PNG]"},
    {"recon", cmd_recon,
     "inputs above reconstructions, MSE/PSNR/SSIM each: clae recon RUN [IMAGE...] [--n 16]"},
    {"interp", cmd_interp,
     "a strip decoded between two images' codes: clae interp RUN A B [--steps 8] [--slerp]"},
    {"arith", cmd_arith,
     "latent arithmetic: clae arith RUN --input A --baseline B --featured C [--alpha ..]"},
    {"denoise", cmd_denoise,
     "noisy, denoised and clean rows with MSEs: clae denoise RUN [IMAGE...] [--noise K:L]"},
    {"latent-map", cmd_latent_map,
     "a 2-D map of a split's codes, by label: clae latent-map RUN [--method tsne|pca] [--n N]"},
    {"anomaly", cmd_anomaly,
     "anomaly scores and ROC of held-out classes: clae anomaly RUN [--score mse|latent]"},
    {"compress", cmd_compress,
     "images into .clae files through a run's encoder: clae compress RUN IMAGE... -o DIR"},
    {"decompress", cmd_decompress,
     ".clae files back to PNGs through the run's decoder: clae decompress RUN FILE... -o DIR"},
    {"rd", cmd_rd,
     "rate-distortion on the test split, against JPEG/WebP: clae rd RUN... [--jpeg] [--webp]"},
    {"features", cmd_features,
     "every convolution's feature maps for one image: clae features RUN [IMAGE]"},
    {"weights", cmd_weights,
     "histograms and statistics of every layer's weights: clae weights RUN"},
    {"info", cmd_info,
     "a trained model's layers, shapes, parameters and FLOPs: clae info RUN [--json]"},
    {"sample", cmd_sample,
     "a VAE's images decoded from its prior: clae sample RUN [--n 64] [--temperature T]"},
    {"keys", cmd_keys, "every config key with its default and meaning"},
    {"sweep", cmd_sweep,
     "INI-driven experiments: sampled keys, pruned trials, resumable: clae sweep SWEEP.ini"},
    {"compare", cmd_compare,
     "one config on several devices: speed and agreement: clae compare CONFIG [--devices all]"},
    {"tune", cmd_tune, "measure CLBlast and clae's own GEMM per shape; later runs use the fastest"},
    {"bench", cmd_bench,
     "training images/s and GFLOP/s of reference configs, SGEMM GFLOP/s: clae bench [ITEMS]"},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: clae COMMAND [options]\n\ncommands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\ndevice choice: --device cpu|gpu|igpu|P:D|NAME, else $CLAE_DEVICE, else GPU > "
               "iGPU > CPU\n"
               "run 'clae COMMAND --help' for a command's options\n");
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(argv[1], commands[i].name) == 0) return commands[i].run(argc, argv);
    fprintf(stderr, "clae: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
