/*
 * The direct family's reorders into its blocked layouts (direct.h): the
 * weights once per set_weights, the input rows in every execute.
 */
#include "direct.h"

/* w[g*kpg + oc][ic][r][s] in (g, oc, ic) of the packing view, or 0. */
static float weight_at(const direct_plan *pl, const float *w, int64_t g,
                       int64_t oc, int64_t ic, int64_t tap)
{
    const direct_layout *l = &pl->lay;
    int64_t taps = pl->d->r * pl->d->s;

    if (l->depthwise)
        return oc < l->kpg ? w[oc * taps + tap] : 0.0f;
    if (oc >= l->kpg || ic >= l->cpg)
        return 0.0f;
    return w[((g * l->kpg + oc) * l->cpg + ic) * taps + tap];
}

/* wb[g][ocg][cb][r][s][ic 8][nb][oc 8]: one oc group's weights. */
static void pack_ocg_weights(const direct_plan *pl, const float *w,
                             int64_t g, int64_t ocg, float *dst)
{
    int64_t taps = pl->d->r * pl->d->s, ob0;
    int nb;

    direct_ocg_blocks(&pl->lay, ocg, &ob0, &nb);
    for (int64_t cb = 0; cb < pl->lay.icb; cb++)
        for (int64_t tap = 0; tap < taps; tap++)
            for (int i = 0; i < DIRECT_LANES; i++)
                for (int ob = 0; ob < nb; ob++)
                    for (int lane = 0; lane < DIRECT_LANES; lane++)
                        *dst++ = weight_at(pl, w, g,
                                           (ob0 + ob) * DIRECT_LANES + lane,
                                           cb * DIRECT_LANES + i, tap);
}

/* wb[cb][r][s][8] for depthwise. */
static void pack_dw_weights(const direct_plan *pl, const float *w)
{
    int64_t taps = pl->d->r * pl->d->s;
    float *dst = pl->wb;

    for (int64_t cb = 0; cb < pl->lay.icb; cb++)
        for (int64_t tap = 0; tap < taps; tap++)
            for (int lane = 0; lane < DIRECT_LANES; lane++)
                *dst++ = weight_at(pl, w, 0, cb * DIRECT_LANES + lane, 0,
                                   tap);
}

/* Packed weights of oc group ocg of group g start here. */
float *direct_ocg_weights(const direct_plan *pl, int64_t g, int64_t ocg)
{
    const direct_layout *l = &pl->lay;
    int64_t ob0, taps = pl->d->r * pl->d->s;
    int nb;

    if (l->depthwise)
        return pl->wb + ocg * taps * DIRECT_LANES;
    direct_ocg_blocks(l, ocg, &ob0, &nb);
    return pl->wb + (g * l->ocb + ob0) * l->icb * taps * 64;
}

void direct_pack_weights(direct_plan *pl, const float *w, const float *b)
{
    const direct_layout *l = &pl->lay;

    if (l->depthwise)
        pack_dw_weights(pl, w);
    for (int64_t g = 0; g < l->groups && !l->depthwise; g++)
        for (int64_t ocg = 0; ocg < l->ocgs; ocg++)
            pack_ocg_weights(pl, w, g, ocg, direct_ocg_weights(pl, g, ocg));

    for (int64_t g = 0; g < l->groups; g++)
        for (int64_t oc = 0; oc < l->ocb * DIRECT_LANES; oc++)
            pl->bb[g * l->ocb * DIRECT_LANES + oc] =
                b != NULL && oc < l->kpg ? b[g * l->kpg + oc] : 0.0f;
}

/* Row ih of channel c of group g of image x (NCHW), or NULL when the
 * channel is past the group's last or the row is outside the image. */
static const float *input_row(const direct_layout *l, const float *x,
                              int64_t g, int64_t c, int64_t ih)
{
    if (c >= l->cpg || ih < 0 || ih >= l->rows.orig)
        return NULL;
    return x + ((g * l->cpg + c) * l->rows.orig + ih) * l->cols.orig;
}

/* Packs packed-input row i of channel block cb of group g of image x
 * into dst[W'][8]. */
static void pack_row(const direct_plan *pl, const float *x, int64_t g,
                     int64_t cb, int64_t i, float *dst)
{
    const direct_layout *l = &pl->lay;
    const direct_dim *rp = &l->rows, *cp = &l->cols;
    int64_t ih = i * rp->sub + rp->off;
    int inside = cp->off >= 0
                 && (cp->in - 1) * cp->sub + cp->off < cp->orig;
    const float *src[DIRECT_LANES];

    for (int lane = 0; lane < DIRECT_LANES; lane++)
        src[lane] = input_row(l, x, g, cb * DIRECT_LANES + lane, ih);
    if (inside) {
        for (int lane = 0; lane < DIRECT_LANES; lane++)
            if (src[lane] != NULL)
                src[lane] += cp->off;
        pl->isa->pack8(src, cp->sub, dst, cp->in);
        return;
    }
    for (int64_t j = 0; j < cp->in; j++) {
        int64_t iw = j * cp->sub + cp->off;

        for (int lane = 0; lane < DIRECT_LANES; lane++)
            *dst++ = src[lane] != NULL && iw >= 0 && iw < cp->orig
                     ? src[lane][iw] : 0.0f;
    }
}

/* Whether packed rows are the original rows, whole: then a run of them
 * is contiguous in x, and one transpose packs it. */
static int rows_contiguous(const direct_layout *l)
{
    return l->rows.sub == 1 && l->rows.off == 0 && l->cols.sub == 1
           && l->cols.off == 0 && l->cols.in == l->cols.orig;
}

/* Packs rows [first, first + count) of channel block cb of group g of
 * image x into dst[count][W'][8]. */
void direct_pack_rows(const direct_plan *pl, const float *x, int64_t g,
                      int64_t cb, int64_t first, int64_t count, float *dst)
{
    const direct_layout *l = &pl->lay;
    ptrdiff_t row = l->cols.in * DIRECT_LANES;
    const float *src[DIRECT_LANES];

    if (!rows_contiguous(l)) {
        for (int64_t i = 0; i < count; i++)
            pack_row(pl, x, g, cb, first + i, dst + i * row);
        return;
    }
    for (int lane = 0; lane < DIRECT_LANES; lane++)
        src[lane] = input_row(l, x, g, cb * DIRECT_LANES + lane, first);
    pl->isa->pack8(src, 1, dst, count * l->cols.in);
}

/* Moves the lines of x that direct_pack_rows() reads for the same
 * arguments towards L2: packing reads 8 channel planes at once, rows
 * apart (and every other row with stride 2), more streams than the
 * hardware prefetchers follow, so each row otherwise waits on L3. */
void direct_prefetch_rows(const direct_plan *pl, const float *x, int64_t g,
                          int64_t cb, int64_t first, int64_t count)
{
    const direct_layout *l = &pl->lay;
    const direct_dim *rp = &l->rows, *cp = &l->cols;
    int64_t j0 = cp->off < 0 ? (-cp->off + cp->sub - 1) / cp->sub : 0;
    int64_t j1 = (cp->orig - 1 - cp->off) / cp->sub + 1;
    int64_t c1 = cb * DIRECT_LANES + DIRECT_LANES;

    j1 = j1 < cp->in ? j1 : cp->in;
    if (j1 <= j0)
        return;
    for (int64_t c = cb * DIRECT_LANES; c < c1; c++)
        for (int64_t i = first; i < first + count; i++) {
            const float *row = input_row(l, x, g, c, i * rp->sub + rp->off);
            const char *a, *b;

            if (row == NULL)
                continue;
            a = (const char *)(row + j0 * cp->sub + cp->off);
            b = (const char *)(row + (j1 - 1) * cp->sub + cp->off);
            for (; a <= b; a += 64)
                __builtin_prefetch(a, 0, 2);
            __builtin_prefetch(b, 0, 2);
        }
}
