/* clae rd's points and its report (rd.c measures, rd_report.c writes). */
#ifndef CLAE_CLI_RD_H
#define CLAE_CLI_RD_H

#include <stdint.h>

#include "clae/error.h"
#include "clae/tensor.h"

#define RD_GRID 8 /* images shown per row of the quality grid */

/* One codec at one setting over the images: means, and the first RD_GRID images decoded. */
typedef struct {
    char codec[16]; /* "clae", "jpeg", "webp" */
    char run[256];  /* clae: the run; else empty */
    int setting;    /* clae: levels (0: integers); else the quality */
    double bpp, psnr, ssim;
    double tile_bpp[RD_GRID], tile_psnr[RD_GRID];
    float *tiles; /* RD_GRID images (fewer when there are fewer), C x H x W each */
} rd_point;

typedef struct {
    rd_point *p;
    int n, cap;
} rd_points;

/* A new point at the end (NULL when out of memory), tiles allocated for shape s. */
rd_point *rd_add(rd_points *pts, clae_shape s);
void rd_free(rd_points *pts);

/* rd.csv, rd.svg, rd_grid.png (+ .svg with each tile's bpp and PSNR) and rd.json in dir, the
 * comparisons at the same bpp on stdout; originals: the first RD_GRID images (tiles shape). */
int rd_report(const char *dir, const rd_points *pts, const float *originals, int n_tiles,
              clae_shape s, uint32_t images, clae_err *err);

#endif
