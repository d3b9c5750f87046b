/* Image data: PNG decoding of every kind (written here with libpng), corrupt
 * and truncated files, resizing, CSV tables and their errors, the emoji set
 * (built here in a scratch folder), splits, and the augmentation kernel. */
#include <math.h>
#include <png.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clae/data.h"
#include "clae/image.h"
#include "clae/ops.h"
#include "helpers.h"

static char dir[256];
static const float WHITE[3] = {1, 1, 1}, BLACK[3] = {0, 0, 0};

static void path_of(char *out, size_t n, const char *name) { snprintf(out, n, "%s/%s", dir, name); }

typedef struct {
    int w, h, color, depth, interlace;
    const unsigned char *rows; /* packed rows as libpng expects them (16-bit big-endian) */
    const png_color *palette;
    int n_palette;
    const unsigned char *trns;
    int n_trns;
} png_spec;

static void write_png_file(const char *name, const png_spec *s)
{
    char p[300];
    path_of(p, sizeof p, name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) fail_msg("libpng failed writing %s", name);
    png_init_io(png, f);
    png_set_IHDR(png, info, s->w, s->h, s->depth, s->color, s->interlace,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (s->palette) png_set_PLTE(png, info, s->palette, s->n_palette);
    if (s->trns) png_set_tRNS(png, info, s->trns, s->n_trns, NULL);
    png_write_info(png, info);
    int passes = png_set_interlace_handling(png);
    size_t stride = png_get_rowbytes(png, info);
    for (int pass = 0; pass < passes; pass++)
        for (int y = 0; y < s->h; y++) png_write_row(png, s->rows + (size_t)y * stride);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    fclose(f);
}

static clae_image load(const char *name, int channels, const float bg[3])
{
    char p[300];
    path_of(p, sizeof p, name);
    clae_image img;
    clae_err err;
    if (clae_png_load(p, channels, bg, &img, &err)) fail_msg("%s", err.msg);
    return img;
}

static void test_png_gray_8_and_16(void **state)
{
    (void)state;
    const unsigned char g8[] = {0, 85, 170, 255};
    const unsigned char g16[] = {0, 0, 0x55, 0x55, 0xAA, 0xAA, 0xFF, 0xFF};
    write_png_file("g8.png", &(png_spec){4, 1, PNG_COLOR_TYPE_GRAY, 8, PNG_INTERLACE_NONE, g8, NULL,
                                         0, NULL, 0});
    write_png_file("g16.png", &(png_spec){4, 1, PNG_COLOR_TYPE_GRAY, 16, PNG_INTERLACE_NONE, g16,
                                          NULL, 0, NULL, 0});
    const char *files[2] = {"g8.png", "g16.png"};
    for (int k = 0; k < 2; k++) {
        clae_image img = load(files[k], 1, WHITE);
        assert_int_equal(img.w, 4);
        for (int i = 0; i < 4; i++) assert_float_equal(img.px[i], g8[i] / 255.0f, 1e-6);
        clae_image_free(&img);
    }
    clae_image rgb = load("g8.png", 3, WHITE); /* gray to 3 channels: equal planes */
    assert_float_equal(rgb.px[1], rgb.px[4 + 1], 0);
    assert_float_equal(rgb.px[1], rgb.px[8 + 1], 0);
    clae_image_free(&rgb);
}

static void test_png_alpha_over_background(void **state)
{
    (void)state;
    const unsigned char ga[] = {255, 0, 255, 255, 255, 128}; /* white: transparent, opaque, half */
    write_png_file("ga.png", &(png_spec){3, 1, PNG_COLOR_TYPE_GRAY_ALPHA, 8, PNG_INTERLACE_NONE, ga,
                                         NULL, 0, NULL, 0});
    clae_image img = load("ga.png", 1, BLACK);
    assert_float_equal(img.px[0], 0.0f, 1e-6);
    assert_float_equal(img.px[1], 1.0f, 1e-6);
    assert_float_equal(img.px[2], 128 / 255.0f, 1e-6);
    clae_image_free(&img);
    const unsigned char rgba[] = {0, 0, 255, 128, 255, 0, 0, 255};
    write_png_file("rgba.png", &(png_spec){2, 1, PNG_COLOR_TYPE_RGBA, 8, PNG_INTERLACE_NONE, rgba,
                                           NULL, 0, NULL, 0});
    img = load("rgba.png", 3, WHITE);
    float a = 128 / 255.0f;
    assert_float_equal(img.px[0], 1 - a, 1e-6); /* R of blue at half alpha over white */
    assert_float_equal(img.px[4], 1.0f, 1e-6);  /* B */
    assert_float_equal(img.px[1], 1.0f, 1e-6);  /* opaque red pixel: R = 1 */
    assert_float_equal(img.px[3], 0.0f, 1e-6);  /* its G */
    clae_image_free(&img);
    const unsigned char rgba16[] = {0xFF, 0xFF, 0, 0, 0, 0, 0xFF, 0xFF};
    write_png_file("rgba16.png", &(png_spec){1, 1, PNG_COLOR_TYPE_RGBA, 16, PNG_INTERLACE_NONE,
                                             rgba16, NULL, 0, NULL, 0});
    img = load("rgba16.png", 3, BLACK);
    assert_float_equal(img.px[0], 1.0f, 1e-6);
    assert_float_equal(img.px[1], 0.0f, 1e-6);
    clae_image_free(&img);
}

static void test_png_palette_and_interlace(void **state)
{
    (void)state;
    const png_color pal[2] = {{255, 0, 0}, {0, 255, 0}};
    const unsigned char trns[2] = {255, 0}; /* the green entry is transparent */
    const unsigned char idx[] = {0, 1};
    write_png_file("pal.png", &(png_spec){2, 1, PNG_COLOR_TYPE_PALETTE, 8, PNG_INTERLACE_NONE, idx,
                                          pal, 2, trns, 2});
    clae_image img = load("pal.png", 3, BLACK);
    assert_float_equal(img.px[0], 1.0f, 1e-6); /* red */
    assert_float_equal(img.px[1], 0.0f, 1e-6); /* transparent -> black */
    assert_float_equal(img.px[2 + 1], 0.0f, 1e-6);
    clae_image_free(&img);
    unsigned char rgb[5 * 3 * 3];
    for (size_t i = 0; i < sizeof rgb; i++) rgb[i] = (unsigned char)(i * 7);
    write_png_file("plain.png", &(png_spec){5, 3, PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_NONE, rgb,
                                            NULL, 0, NULL, 0});
    write_png_file("adam7.png", &(png_spec){5, 3, PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_ADAM7, rgb,
                                            NULL, 0, NULL, 0});
    clae_image a = load("plain.png", 3, WHITE), b = load("adam7.png", 3, WHITE);
    for (int i = 0; i < 45; i++) assert_float_equal(a.px[i], b.px[i], 0);
    assert_float_equal(a.px[15 * 1 + 2], rgb[2 * 3 + 1] / 255.0f, 1e-6); /* G of pixel (0, 2) */
    clae_image_free(&a);
    clae_image_free(&b);
}

static void expect_png_error(const char *name, const char *fragment)
{
    char p[300];
    path_of(p, sizeof p, name);
    clae_image img;
    clae_err err = {0};
    assert_int_equal(clae_png_load(p, 3, WHITE, &img, &err), -1);
    if (!strstr(err.msg, fragment) || !strstr(err.msg, name))
        fail_msg("message '%s' lacks '%s'", err.msg, fragment);
}

static void test_png_corrupt_and_truncated(void **state)
{
    (void)state;
    unsigned char rgb[16 * 16 * 3];
    for (size_t i = 0; i < sizeof rgb; i++) rgb[i] = (unsigned char)(i * 13);
    write_png_file("good.png", &(png_spec){16, 16, PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_NONE, rgb,
                                           NULL, 0, NULL, 0});
    char p[300], q[300];
    path_of(p, sizeof p, "good.png");
    FILE *f = fopen(p, "rb");
    unsigned char buf[4096];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    path_of(q, sizeof q, "cut.png");
    f = fopen(q, "wb");
    fwrite(buf, 1, n / 2, f);
    fclose(f);
    expect_png_error("cut.png", "corrupt or truncated PNG");
    for (size_t i = 60; i < n - 20; i++) buf[i] ^= 0x5A; /* inside the image data */
    path_of(q, sizeof q, "bad.png");
    f = fopen(q, "wb");
    fwrite(buf, 1, n, f);
    fclose(f);
    expect_png_error("bad.png", "corrupt or truncated PNG");
    path_of(q, sizeof q, "text.png");
    f = fopen(q, "wb");
    fputs("not an image at all", f);
    fclose(f);
    expect_png_error("text.png", "not a PNG file");
}

static void test_resize(void **state)
{
    (void)state;
    float px[16];
    for (int i = 0; i < 16; i++) px[i] = (float)i;
    clae_image in = {1, 4, 4, px}, out;
    clae_err err;
    assert_int_equal(clae_image_resize(&in, 2, 2, &out, &err), 0); /* area: means of 2x2 blocks */
    assert_float_equal(out.px[0], (0 + 1 + 4 + 5) / 4.0f, 1e-5);
    assert_float_equal(out.px[3], (10 + 11 + 14 + 15) / 4.0f, 1e-5);
    clae_image_free(&out);
    float two[2] = {0, 1};
    clae_image line = {1, 1, 2, two};
    assert_int_equal(clae_image_resize(&line, 1, 4, &out, &err),
                     0); /* bilinear, half-pixel centres */
    const float expect[4] = {0, 0.25f, 0.75f, 1};
    for (int i = 0; i < 4; i++) assert_float_equal(out.px[i], expect[i], 1e-6);
    clae_image_free(&out);
    assert_int_equal(clae_image_resize(&in, 3, 3, &out, &err),
                     0); /* fractional area: mean preserved */
    double s = 0;
    for (int i = 0; i < 9; i++) s += out.px[i];
    assert_float_equal(s / 9, 7.5, 1e-4);
    clae_image_free(&out);
}

static void write_text(const char *name, const char *text)
{
    char p[300];
    path_of(p, sizeof p, name);
    FILE *f = fopen(p, "w");
    fputs(text, f);
    fclose(f);
}

static void expect_csv(const char *name, const char *text, const char *fragment, uint32_t rows)
{
    write_text(name, text);
    char p[300];
    path_of(p, sizeof p, name);
    clae_dataset d;
    clae_err err = {0};
    int rc = clae_dataset_load_csv(&d, p, (clae_shape){1, 1, 2, 2}, 255, 0, &err);
    if (!fragment) {
        if (rc) fail_msg("%s", err.msg);
        assert_int_equal(d.count, rows);
        assert_int_equal(d.labels[1], 7);
        assert_int_equal(d.pixels[4 + 3], 255);
        clae_dataset_free(&d);
    } else {
        assert_int_equal(rc, -1);
        if (!strstr(err.msg, fragment)) fail_msg("message '%s' lacks '%s'", err.msg, fragment);
    }
}

static void test_csv(void **state)
{
    (void)state;
    expect_csv("h.csv", "label,p0,p1,p2,p3\n3,0,10,20,30\n7,1,2,3,255\n", NULL, 2);
    expect_csv("n.csv", "3,0,10,20,30\n7,1,2,3,255\n\n", NULL, 2);
    expect_csv("cols.csv", "label,p0,p1,p2,p3\n3,0,10,20,30\n7,1,2,3\n",
               "cols.csv:3: expected 5 columns", 0);
    expect_csv("nan.csv", "3,0,abc,20,30\n", "nan.csv:1: column 3 is not a number: 'abc'", 0);
    expect_csv("label.csv", "3.5,0,1,2,3\n", "label.csv:1: label 3.5 is not an integer", 0);
    /* a UTF-8 BOM before a data row: the row is data, not a header dropped silently */
    expect_csv("bom.csv",
               "\xEF\xBB\xBF"
               "3,0,10,20,30\n7,1,2,3,255\n",
               NULL, 2);
    /* an empty field is an error, not merged away (strtok shifted the pixels) */
    expect_csv("empty.csv", "3,0,,20,30,40\n", "empty.csv:1: column 3 is empty", 0);
    expect_csv("trail.csv", "3,0,10,20,\n", "trail.csv:1: column 5 is empty", 0);
    /* values below the smallest normal float are 0, not "not a number" */
    expect_csv("tiny.csv", "3,1e-320,10,20,30\n7,1,2,3,255\n", NULL, 2);
    expect_csv("huge.csv", "3,1e999,10,20,30\n", "huge.csv:1: column 2 is not a number", 0);
}

/* A fake prepared emoji folder: three 8x8 PNGs and their labels.tsv. */
static void make_emoji_dir(void)
{
    char p[300];
    path_of(p, sizeof p, "data/emoji/google/64");
    char cmd[400];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", p);
    assert_int_equal(system(cmd), 0);
    unsigned char rgba[8 * 8 * 4];
    const char *files[3] = {"data/emoji/google/64/a.png", "data/emoji/google/64/b.png",
                            "data/emoji/google/64/c.png"};
    for (int k = 0; k < 3; k++) {
        for (size_t i = 0; i < sizeof rgba; i++) rgba[i] = (unsigned char)(i * (k + 3));
        write_png_file(files[k], &(png_spec){8, 8, PNG_COLOR_TYPE_RGBA, 8, PNG_INTERLACE_NONE, rgba,
                                             NULL, 0, NULL, 0});
    }
    write_text("data/emoji/google/labels.tsv",
               "file\tname\tcategory\tvendor\n64/a.png\tGRINNING FACE\tSmileys\tgoogle\n"
               "64/b.png\tCRYING FACE\tSmileys\tgoogle\n64/c.png\tDOG\tAnimals\tgoogle\n");
}

static void test_emoji(void **state)
{
    (void)state;
    make_emoji_dir();
    char data[300];
    path_of(data, sizeof data, "data");
    clae_image_opts o = {.image = {1, 3, 4, 4}, .background = {1, 1, 1}};
    clae_dataset d;
    clae_err err;
    if (clae_dataset_load_emoji(&d, data, "google", "face", "", &o, &err)) fail_msg("%s", err.msg);
    assert_int_equal(d.count, 2); /* DOG filtered out */
    assert_non_null(strstr(d.names[1], "CRYING FACE"));
    assert_null(d.labels);
    clae_dataset_free(&d);
    if (clae_dataset_load_emoji(&d, data, "google", "", "happy: grinning smiling; sad: crying", &o,
                                &err))
        fail_msg("%s", err.msg);
    assert_int_equal(d.count, 2); /* DOG matches no class and is dropped */
    assert_int_equal(d.labels[0], 0);
    assert_int_equal(d.labels[1], 1);
    clae_dataset_free(&d);
    assert_int_equal(clae_dataset_load_emoji(&d, data, "google", "unicorn", "", &o, &err), -1);
    assert_non_null(strstr(err.msg, "data.filter = 'unicorn'"));
    assert_non_null(strstr(err.msg, "matched no emoji"));
    assert_int_equal(clae_dataset_load_emoji(&d, data, "apple", "face", "", &o, &err), -1);
    assert_non_null(strstr(err.msg, "scripts/prepare_data.sh emoji --vendors apple"));
    /* an unreadable file: an error naming it, or skipped and counted with skip_bad */
    write_text("data/emoji/google/64/c.png", "broken");
    assert_int_equal(clae_dataset_load_emoji(&d, data, "google", "", "", &o, &err), -1);
    assert_non_null(strstr(err.msg, "c.png"));
    o.skip_bad = true;
    if (clae_dataset_load_emoji(&d, data, "google", "", "", &o, &err)) fail_msg("%s", err.msg);
    assert_int_equal(d.count, 2);
    assert_int_equal(d.skipped, 1);
    clae_dataset_free(&d);
}

/* A folder of 37 gray 2x2 PNGs, image i filled with 6 * i, decoded on several
 * threads: order, pixels and labels by name; the lowest bad file is the one
 * named; skip_bad keeps the order of the rest. */
static void make_folder(void)
{
    char p[300], cmd[400];
    path_of(p, sizeof p, "folder");
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", p, p);
    assert_int_equal(system(cmd), 0);
    char labels[2048] = "file,label\n";
    for (int i = 0; i < 37; i++) {
        unsigned char gray[4] = {(unsigned char)(6 * i), (unsigned char)(6 * i),
                                 (unsigned char)(6 * i), (unsigned char)(6 * i)};
        char name[64];
        snprintf(name, sizeof name, "folder/f%02d.png", i);
        write_png_file(name, &(png_spec){2, 2, PNG_COLOR_TYPE_GRAY, 8, PNG_INTERLACE_NONE, gray,
                                         NULL, 0, NULL, 0});
        if (i != 7)
            snprintf(labels + strlen(labels), sizeof labels - strlen(labels), "f%02d.png,%d\n", i,
                     i % 3 + 1);
    }
    write_text("folder/labels.csv", labels);
}

static void expect_folder_error(const char *labels, bool skip_bad, const char *fragment)
{
    char p[300], q[300];
    path_of(p, sizeof p, "folder");
    path_of(q, sizeof q, labels);
    clae_image_opts o = {.image = {1, 1, 2, 2}, .skip_bad = skip_bad};
    clae_dataset d;
    clae_err err;
    assert_int_equal(clae_dataset_load_folder(&d, p, q, &o, &err), -1);
    if (!strstr(err.msg, fragment)) fail_msg("message '%s' lacks '%s'", err.msg, fragment);
}

static void test_folder(void **state)
{
    (void)state;
    make_folder();
    char p[300], q[300];
    path_of(p, sizeof p, "folder");
    path_of(q, sizeof q, "folder/labels.csv");
    clae_image_opts o = {.image = {1, 1, 2, 2}};
    clae_dataset d;
    clae_err err;
    if (clae_dataset_load_folder(&d, p, q, &o, &err)) fail_msg("%s", err.msg);
    assert_int_equal(d.count, 37);
    assert_int_equal(d.unlisted, 1); /* f07 */
    for (int i = 0; i < 37; i++) {
        assert_int_equal(d.pixels[4 * i + 3], 6 * i);
        assert_int_equal(d.labels[i], i == 7 ? 0 : i % 3 + 1); /* not listed: 0 */
    }
    clae_dataset_free(&d);
    write_text("folder/f20.png", "broken");
    write_text("folder/f05.png", "broken");
    expect_folder_error("folder/labels.csv", false, "f05.png");
    o.skip_bad = true;
    if (clae_dataset_load_folder(&d, p, q, &o, &err)) fail_msg("%s", err.msg);
    assert_int_equal(d.count, 35);
    assert_int_equal(d.skipped, 2);
    for (uint32_t k = 0; k < d.count; k++) {
        int i = (int)k + (k >= 5) + (k >= 19); /* f05 and f20 left out */
        char name[16];
        snprintf(name, sizeof name, "f%02d.png", i);
        assert_string_equal(d.names[k], name);
        assert_int_equal(d.pixels[4 * k], 6 * i);
        assert_int_equal(d.labels[k], i == 7 ? 0 : i % 3 + 1);
    }
    clae_dataset_free(&d);
    write_text("folder/bad_label.csv", "file,label\nf01.png,2\nf02.png,two\n");
    expect_folder_error("folder/bad_label.csv", true,
                        "bad_label.csv:3: label of f02.png is not an integer");
    write_text("folder/twice.csv", "f01.png,2\nf03.png,1\nf01.png,3\n");
    expect_folder_error("folder/twice.csv", true, "f01.png is listed with labels 2 and 3");
    /* a folder given as the labels file is refused, not taken as "no labels" */
    expect_folder_error("folder", true, "is a folder, not a labels file");
    char long_line[1500]; /* a line fgets would split in two */
    memset(long_line, 'a', sizeof long_line);
    memcpy(long_line + sizeof long_line - 8, ".png,1\n", 8);
    long_line[sizeof long_line - 1] = 0;
    write_text("folder/long.csv", long_line);
    expect_folder_error("folder/long.csv", true, "long.csv:1: line longer than 1022 characters");
    /* empty and header-only label files list nothing: an error, not silently no labels */
    write_text("folder/empty.csv", "");
    expect_folder_error("folder/empty.csv", true, "empty.csv: no 'file,label' rows (0 lines)");
    write_text("folder/header.csv", "file,label\n");
    expect_folder_error("folder/header.csv", true, "header.csv: no 'file,label' rows (1 line)");
}

static void test_split3(void **state)
{
    (void)state;
    clae_dataset d = {.count = 100};
    uint8_t labels[100];
    for (int i = 0; i < 100; i++) labels[i] = (uint8_t)(i % 4 == 0); /* 25 of class 1 */
    d.labels = labels;
    const double f[3] = {0.6, 0.2, 0.2};
    uint32_t *a[3], *b[3], na[3], nb[3];
    clae_err err;
    assert_int_equal(clae_split3(&d, f, true, 9, a, na, &err), 0);
    assert_int_equal(clae_split3(&d, f, true, 9, b, nb, &err), 0);
    int seen[100] = {0};
    for (int s = 0; s < 3; s++) {
        assert_int_equal(na[s], nb[s]);
        assert_memory_equal(a[s], b[s], na[s] * sizeof(uint32_t)); /* reproducible */
        int ones = 0;
        for (uint32_t i = 0; i < na[s]; i++) seen[a[s][i]]++, ones += labels[a[s][i]];
        assert_int_equal(ones, s == 0 ? 15 : 5); /* stratified: 25 -> 15/5/5 */
    }
    for (int i = 0; i < 100; i++) assert_int_equal(seen[i], 1); /* disjoint and complete */
    assert_int_equal(na[0], 60);
    for (int s = 0; s < 3; s++) free(b[s]);
    assert_int_equal(clae_split3(&d, f, false, 10, b, nb, &err), 0);
    assert_true(memcmp(a[0], b[0], 60 * sizeof(uint32_t)) != 0); /* another seed, another split */
    for (int s = 0; s < 3; s++) free(a[s]), free(b[s]);
}

/* Runs the augmentation kernel on two 3x6x6 images; returns rows x 108 floats. */
static void augment(clae_ctx *ctx, const uint8_t *px, const uint32_t *order, int rows,
                    const clae_augment_params *a, float *out)
{
    cl_int rc;
    cl_mem src = clCreateBuffer(ctx->context, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, 2 * 108,
                                (void *)px, &rc);
    cl_mem ord = clCreateBuffer(ctx->context, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR,
                                (size_t)rows * 4, (void *)order, &rc);
    float mean[2] = {0.5f, 0.5f};
    cl_mem means = clCreateBuffer(ctx->context, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR,
                                  sizeof mean, mean, &rc);
    clae_tensor dst;
    CHECK_OK(ctx, clae_tensor_create(ctx, (clae_shape){rows, 3, 6, 6}, &dst));
    CHECK_OK(ctx, clae_op_augment(ctx, &dst, src, ord, 0, (size_t)rows, (clae_shape){1, 3, 6, 6},
                                  means, a));
    CHECK_OK(ctx, clae_tensor_read(ctx, &dst, out, (size_t)rows * 108));
    clae_tensor_destroy(&dst);
    clReleaseMemObject(src), clReleaseMemObject(ord), clReleaseMemObject(means);
}

static void test_augmentation(void **state)
{
    clae_ctx *ctx = *state;
    uint8_t px[2 * 108];
    for (int i = 0; i < 216; i++) px[i] = (uint8_t)((i * 37) % 251);
    uint32_t order[4] = {0, 1, 1u << 24 | 0,
                         2u << 24 | 1}; /* samples 0, 1, copy 1 of 0, copy 2 of 1 */
    float a[4 * 108], b[4 * 108];
    clae_augment_params none = {.crop = 1, .seed = 3};
    augment(ctx, px, order, 4, &none, a);
    for (int i = 0; i < 108; i++) assert_float_equal(a[i], px[i] / 255.0f, 1e-6); /* identity */
    clae_augment_params flip = {.hflip = 1, .crop = 1, .seed = 3};
    augment(ctx, px, order, 1, &flip, b);
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < 6; y++)
            for (int x = 0; x < 6; x++)
                assert_float_equal(b[(c * 6 + y) * 6 + x], px[(c * 6 + y) * 6 + 5 - x] / 255.0f,
                                   1e-6);
    clae_augment_params all = {.hflip = 0.5f,
                               .vflip = 0.5f,
                               .rotate = 30,
                               .brightness = 0.3f,
                               .contrast = 0.3f,
                               .saturation = 0.3f,
                               .crop = 0.5f,
                               .background = {1, 1, 1},
                               .seed = 3};
    augment(ctx, px, order, 4, &all, a);
    augment(ctx, px, order, 4, &all, b);
    assert_memory_equal(a, b, sizeof a); /* deterministic under the seed */
    double change = 0, copies = 0;
    for (int i = 0; i < 108; i++)
        change += fabs(a[i] - px[i] / 255.0f), copies += fabs(a[i] - a[2 * 108 + i]);
    assert_true(change > 0.05 * 108); /* changes the pixels */
    assert_true(copies > 0.05 * 108); /* copy 1 is another variant of sample 0 */
    for (int i = 0; i < 4 * 108; i++) assert_true(a[i] >= 0.0f && a[i] <= 1.0f);
    all.seed = 4;
    augment(ctx, px, order, 4, &all, b);
    assert_true(memcmp(a, b, sizeof a) != 0); /* another seed, other variants */
}

/* Denoising noise: statistics of each kind, and the same noise for the same seed. */
static void test_noise(void **state)
{
    clae_ctx *ctx = *state;
    const size_t n = 40000;
    clae_tensor x, y;
    CHECK_OK(ctx, clae_tensor_create(ctx, (clae_shape){1, (int)n, 1, 1}, &x));
    CHECK_OK(ctx, clae_tensor_create(ctx, (clae_shape){1, (int)n, 1, 1}, &y));
    CHECK_OK(ctx, clae_op_fill(ctx, &x, n, 0.5f));
    float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    CHECK_OK(ctx, clae_op_noise(ctx, &y, &x, n, CLAE_NOISE_GAUSSIAN, 0.2f, 7, 0));
    CHECK_OK(ctx, clae_tensor_read(ctx, &y, a, n));
    double mean = 0, var = 0;
    for (size_t i = 0; i < n; i++) mean += a[i] - 0.5;
    mean /= n;
    for (size_t i = 0; i < n; i++) var += (a[i] - 0.5 - mean) * (a[i] - 0.5 - mean);
    assert_true(fabs(mean) < 0.005);
    assert_float_equal(sqrt(var / n), 0.2, 0.005); /* sigma, not clamped */
    CHECK_OK(ctx, clae_op_noise(ctx, &y, &x, n, CLAE_NOISE_GAUSSIAN, 0.2f, 7, 0));
    CHECK_OK(ctx, clae_tensor_read(ctx, &y, b, n));
    assert_memory_equal(a, b, n * sizeof *a); /* same seed, same noise */
    CHECK_OK(ctx, clae_op_noise(ctx, &y, &x, n, CLAE_NOISE_SALT_PEPPER, 0.3f, 8, 0));
    CHECK_OK(ctx, clae_tensor_read(ctx, &y, a, n));
    size_t salt = 0, pepper = 0, kept = 0;
    for (size_t i = 0; i < n; i++)
        salt += a[i] == 1.0f, pepper += a[i] == 0.0f, kept += a[i] == 0.5f;
    assert_int_equal(salt + pepper + kept, n);
    assert_true(fabs((double)(salt + pepper) / n - 0.3) < 0.01 &&
                fabs((double)salt / (salt + pepper) - 0.5) < 0.03);
    CHECK_OK(ctx, clae_op_noise(ctx, &y, &x, n, CLAE_NOISE_MASK, 0.25f, 9, 0));
    CHECK_OK(ctx, clae_tensor_read(ctx, &y, a, n));
    size_t zeros = 0;
    for (size_t i = 0; i < n; i++) zeros += a[i] == 0.0f;
    assert_true(fabs((double)zeros / n - 0.25) < 0.01);
    free(a), free(b);
    clae_tensor_destroy(&x), clae_tensor_destroy(&y);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/clae-test-data-%ld", (long)getpid());
    if (mkdir(dir, 0755)) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_png_gray_8_and_16),
        cmocka_unit_test(test_png_alpha_over_background),
        cmocka_unit_test(test_png_palette_and_interlace),
        cmocka_unit_test(test_png_corrupt_and_truncated),
        cmocka_unit_test(test_resize),
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_emoji),
        cmocka_unit_test(test_folder),
        cmocka_unit_test(test_split3),
        cmocka_unit_test(test_augmentation),
        cmocka_unit_test(test_noise),
    };
    int rc = cmocka_run_group_tests_name("data", tests, test_ctx_setup, test_ctx_teardown);
    test_remove_tree(dir);
    return rc;
}
