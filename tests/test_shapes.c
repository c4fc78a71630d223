/* Shape descriptors in benchdnn syntax and the shipped suites: valid lines
 * against descriptors worked out by hand, every rejection with the token
 * it must name, the canonical text's round trip, and suite files. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "util.h"

#include "shapes.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A valid line and the descriptor it must give (dilation as in conv_desc:
 * 1 is none). */
typedef struct parse_case {
    const char *text;
    int64_t n, g, c, k;
    int64_t h, w, r, s;
    int64_t sh, sw, dh, dw;
    int64_t pt, pb, pl, pr;
    int64_t p, q;
} parse_case;

static const parse_case valid[] = {
    /* Defaults: batch 2, square, stride 1, no padding: 5 - 3 + 1. */
    {"ic3oc8ih5kh3", 2, 1, 3, 8, 5, 5, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, 3, 3},
    /* Deduced padding: (55*1 - 56 + 3) / 2 = 1 on each side. */
    {"ic64ih56oc64oh56kh3", 2, 1, 64, 64, 56, 56, 3, 3, 1, 1, 1, 1,
     1, 1, 1, 1, 56, 56},
    {"mb1ic64ih56oc64oh56kh3ph1n\"resnet_50:res2a_branch2b*3\"",
     1, 1, 64, 64, 56, 56, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 56, 56},
    /* ResNet's stride-2 1x1: 27*2 - 56 + 1 = -1, so p 0 and end -1. */
    {"ic256ih56oc128oh28kh1sh2", 2, 1, 256, 128, 56, 56, 1, 1, 2, 2, 1, 1,
     0, -1, 0, -1, 28, 28},
    {"ic256ih56oc128oh28kh1sh2ph0", 2, 1, 256, 128, 56, 56, 1, 1, 2, 2,
     1, 1, 0, -1, 0, -1, 28, 28},
    /* Stride 4: 3*4 - 16 + 1 = -3; the begin padding stays 0. */
    {"ic8ih16oc8oh4kh1sh4", 2, 1, 8, 8, 16, 16, 1, 1, 4, 4, 1, 1,
     0, -3, 0, -3, 4, 4},
    /* TensorFlow "same", 7x7 stride 2: 111*2 - 224 + 7 = 5 = 2 + 3. */
    {"ic3ih224oc64oh112kh7sh2", 2, 1, 3, 64, 224, 224, 7, 7, 2, 2, 1, 1,
     2, 3, 2, 3, 112, 112},
    /* Padding given: (224 + 6 - 7)/2 + 1 = 112, end 222 - 224 + 7 - 3. */
    {"ic3ih224oc64kh7sh2ph3", 2, 1, 3, 64, 224, 224, 7, 7, 2, 2, 1, 1,
     3, 2, 3, 2, 112, 112},
    /* Output and padding given, one more than symmetric padding gives:
     * (8 + 2 - 3)/2 + 1 = 4, so 5 needs end padding 4*2 - 8 + 3 - 1. */
    {"ic1oc1ih8kh3sh2ph1oh5", 2, 1, 1, 1, 8, 8, 3, 3, 2, 2, 1, 1,
     1, 2, 1, 2, 5, 5},
    /* Rectangles: a 1x7 kernel, both axes given. */
    {"ic3oc4ih17iw9kh1kw7ph0pw3", 2, 1, 3, 4, 17, 9, 1, 7, 1, 1, 1, 1,
     0, 0, 3, 3, 17, 9},
    /* Only h keys: w copies all of them. Extent 5, (9+2-5)/2+1 = 4. */
    {"ic1oc1ih9kh3sh2ph1dh1", 2, 1, 1, 1, 9, 9, 3, 3, 2, 2, 2, 2,
     1, 1, 1, 1, 4, 4},
    /* Only w keys: h copies them. */
    {"ic1oc1iw9kw3sw2", 2, 1, 1, 1, 9, 9, 3, 3, 2, 2, 1, 1,
     0, 0, 0, 0, 4, 4},
    /* Both axes keyed: kw copies kh, but stride w keeps its default. */
    {"ic1oc1ih9iw7kh3sh2", 2, 1, 1, 1, 9, 7, 3, 3, 2, 1, 1, 1,
     0, 0, 0, 0, 4, 5},
    /* Per-axis deduction: w has (2*2 - 6 + 3) = 1 = 0 + 1. */
    {"ic1oc1ih10iw6oh10ow3kh3sw2", 2, 1, 1, 1, 10, 6, 3, 3, 1, 2, 1, 1,
     1, 1, 0, 1, 10, 3},
    /* Dilation counted from 0: dh1 spreads 3 taps over 5 rows. */
    {"ic2oc2ih10kh3dh1", 2, 1, 2, 2, 10, 10, 3, 3, 1, 1, 2, 2,
     0, 0, 0, 0, 6, 6},
    {"ic2oc2ih10kh3dh0", 2, 1, 2, 2, 10, 10, 3, 3, 1, 1, 1, 1,
     0, 0, 0, 0, 8, 8},
    {"ic2oc2ih10kh3dh1oh10", 2, 1, 2, 2, 10, 10, 3, 3, 1, 1, 2, 2,
     2, 2, 2, 2, 10, 10},
    {"g2ic6oc10ih9kh3ph1", 2, 2, 6, 10, 9, 9, 3, 3, 1, 1, 1, 1,
     1, 1, 1, 1, 9, 9},
    /* Underscores, any order, surrounding blanks. */
    {"mb1_ic64_ih56_oc64_oh56_kh3_ph1", 1, 1, 64, 64, 56, 56, 3, 3, 1, 1,
     1, 1, 1, 1, 1, 1, 56, 56},
    {"ph1kh3oh56oc64ih56ic64mb1", 1, 1, 64, 64, 56, 56, 3, 3, 1, 1, 1, 1,
     1, 1, 1, 1, 56, 56},
    {" \tic3oc8ih5kh3  ", 2, 1, 3, 8, 5, 5, 3, 3, 1, 1, 1, 1,
     0, 0, 0, 0, 3, 3},
    /* The kernel fits the padded image exactly: 5 + 2 - 7 = 0. */
    {"ic4ih5oc4kh7ph1", 2, 1, 4, 4, 5, 5, 7, 7, 1, 1, 1, 1,
     1, 1, 1, 1, 1, 1},
    /* Padding beyond the kernel's reach: 3 + 10 - 5 + 1. */
    {"ic4ih3oc4kh5ph5", 2, 1, 4, 4, 3, 3, 5, 5, 1, 1, 1, 1,
     5, 5, 5, 5, 9, 9},
    /* The largest value a key takes. */
    {"ic2147483647oc1ih1kh1", 2, 1, 2147483647, 1, 1, 1, 1, 1, 1, 1, 1, 1,
     0, 0, 0, 0, 1, 1},
};

static void expect_desc(const parse_case *w, const conv_desc *d)
{
    const int64_t want[] = {w->n, w->g, w->c, w->k, w->h, w->w, w->r, w->s,
                            w->sh, w->sw, w->dh, w->dw, w->pt, w->pb,
                            w->pl, w->pr, w->p, w->q};
    const int64_t got[] = {d->n, d->groups, d->c, d->k, d->h, d->w, d->r,
                           d->s, d->stride_h, d->stride_w, d->dil_h,
                           d->dil_w, d->pad_top, d->pad_bottom,
                           d->pad_left, d->pad_right, d->p, d->q};
    const char *names[] = {"n", "groups", "c", "k", "h", "w", "r", "s",
                           "stride_h", "stride_w", "dil_h", "dil_w",
                           "pad_top", "pad_bottom", "pad_left", "pad_right",
                           "p", "q"};

    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (want[i] != got[i])
            fail_msg("'%s': %s is %lld, expected %lld", w->text, names[i],
                     (long long)got[i], (long long)want[i]);
}

/* Parses text, which must be valid; the output is poisoned first. */
static bench_shape parse_ok(const char *text, int64_t mb)
{
    bench_shape s;
    char err[512] = "";

    memset(&s, 0xa5, sizeof s);
    if (bench_shape_parse(text, mb, &s, err, sizeof err) != 0)
        fail_msg("'%s' rejected: %s", text, err);
    return s;
}

static int same_desc(const conv_desc *a, const conv_desc *b)
{
    return a->n == b->n && a->c == b->c && a->h == b->h && a->w == b->w
           && a->k == b->k && a->r == b->r && a->s == b->s
           && a->stride_h == b->stride_h && a->stride_w == b->stride_w
           && a->pad_top == b->pad_top && a->pad_left == b->pad_left
           && a->pad_bottom == b->pad_bottom
           && a->pad_right == b->pad_right && a->dil_h == b->dil_h
           && a->dil_w == b->dil_w && a->groups == b->groups
           && a->p == b->p && a->q == b->q;
}

/* The canonical text parses back to the same shape and the same text. */
static void expect_round_trip(const bench_shape *s, const char *origin)
{
    bench_shape back = parse_ok(s->text, 0);

    if (!same_desc(&s->desc, &back.desc) || strcmp(s->name, back.name)
        || s->count != back.count || strcmp(s->text, back.text))
        fail_msg("%s: canonical '%s' reads back as '%s' (name '%s' x%d, "
                 "was '%s' x%d)", origin, s->text, back.text, back.name,
                 back.count, s->name, s->count);
}

static void test_valid_lines(void **state)
{
    for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++) {
        bench_shape s = parse_ok(valid[i].text, 0);

        expect_desc(&valid[i], &s.desc);
        assert_int_equal(s.line, 0);
        expect_round_trip(&s, valid[i].text);
    }
}

static void test_names(void **state)
{
    static const struct {
        const char *text, *name;
        int count;
    } cases[] = {
        {"ic1oc1ih1kh1n\"resnet_50:res2a_branch2b*3\"",
         "resnet_50:res2a_branch2b", 3},
        {"ic1oc1ih1kh1n\"plain\"", "plain", 1},
        {"ic1oc1ih1kh1n\"x*12\"", "x", 12},
        {"ic1oc1ih1kh1n\"a*b\"", "a*b", 1},
        {"ic1oc1ih1kh1n\"a*2*5\"", "a*2", 5},
        {"ic1oc1ih1kh1n\"spaces and keys ic9 kh0\"", "spaces and keys ic9 kh0",
         1},
        {"ic1oc1ih1kh1n\"\"", "", 1},
        {"ic1oc1ih1kh1n\"*4\"", "", 4},
        {"ic1oc1ih1kh1", "", 1},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bench_shape s = parse_ok(cases[i].text, 0);

        if (strcmp(s.name, cases[i].name) || s.count != cases[i].count)
            fail_msg("'%s': name '%s' x%d, expected '%s' x%d",
                     cases[i].text, s.name, s.count, cases[i].name,
                     cases[i].count);
        expect_round_trip(&s, cases[i].text);
    }

    /* The count stays in the text, so a reloaded suite weighs the same. */
    assert_non_null(strstr(parse_ok(cases[0].text, 0).text,
                           "n\"resnet_50:res2a_branch2b*3\""));
}

static void test_mb_override(void **state)
{
    assert_int_equal(parse_ok("mb8ic3oc8ih5kh3", 0).desc.n, 8);
    assert_int_equal(parse_ok("mb8ic3oc8ih5kh3", 3).desc.n, 3);
    assert_int_equal(parse_ok("ic3oc8ih5kh3", 0).desc.n, 2);
    assert_int_equal(parse_ok("ic3oc8ih5kh3", 5).desc.n, 5);
    assert_non_null(strstr(parse_ok("ic3oc8ih5kh3", 5).text, "mb5"));
}

/* A line to reject, a token the message must quote, and words of the
 * rule it must state. */
typedef struct reject_case {
    const char *text, *token, *rule;
} reject_case;

static const reject_case rejects[] = {
    {"ic3oc8ih5kh0", "'kh0'", "at least 1"},
    {"ic3oc8ih5kh3kw0", "'kw0'", "at least 1"},
    {"ic3oc8ih5kh3sh0", "'sh0'", "at least 1"},
    {"mb0ic3oc8ih5kh3", "'mb0'", "at least 1"},
    {"g0ic3oc8ih5kh3", "'g0'", "at least 1"},
    {"ic0oc8ih5kh3", "'ic0'", "at least 1"},
    {"ic3oc8ih5kh3oh0", "'oh0'", "at least 1"},
    {"ic3oc8ih5kh3xy2", "'xy2'", "unknown key"},
    {"IC3oc8ih5kh3", "'IC3'", "unknown key"},
    {"ic3oc8ih5kh3kd3", "'kd3'", "3-D"},
    {"id5ic3oc8ih5kh3", "'id5'", "3-D"},
    {"ic3oc8ih5kh3od2", "'od2'", "3-D"},
    {"ic3oc8ih5kh3sd1", "'sd1'", "3-D"},
    {"ic3oc8ih5kh3pd0", "'pd0'", "3-D"},
    {"ic3oc8ih5kh3dd1", "'dd1'", "3-D"},
    {"oc8ih5kh3", "'ic'", "missing"},
    {"ic3ih5kh3", "'oc'", "missing"},
    {"ic3oc8kh3", "'ih'", "missing"},
    {"ic3oc8ih5", "'kh'", "missing"},
    {"n\"only a name\"", "'ic'", "missing"},
    {"ic3ic4oc8ih5kh3", "'ic4'", "twice"},
    {"ic3oc8ih5kh3iw5ih6", "'ih6'", "twice"},
    {"ic3oc8ih5kh3ph-1", "'ph-1'", "non-negative"},
    {"ic3oc8ih5.5kh3", "'ih5.5'", "non-negative integer"},
    {"ic3oc8ih_kh3", "'ih'", "needs a value"},
    {"ic3oc8ih5kh3ph", "'ph'", "needs a value"},
    {"ic3oc8ih2147483648kh3", "'ih2147483648'", "at most 2147483647"},
    {"ic3oc8ih99999999999999999999999999kh3",
     "'ih99999999999999999999999999'", "at most"},
    {"g3ic4oc6ih5kh3", "'g3'", "divide"},
    {"g2ic4oc5ih5kh3", "'g2'", "divide"},
    /* (10 + 2 - 3)/1 + 1 = 10 rows, or 11 with one more end row. */
    {"ic3oc8ih10kh3ph1oh5", "'oh5'", "10 or 11"},
    {"ic3oc8ih10kh3ph0oh10", "'oh10'", "8 or 9"},
    /* 27*2 - 56 + 1 = -3: a whole stride of input left unread. */
    {"ic8oc8ih56kh1sh2oh27", "'oh27'", "28 or 29"},
    /* Symmetric padding 0 gives no output at all for a 5-row kernel on
     * 2 rows, so no output size agrees with ph0. */
    {"ic3oc8ih2kh5ph0oh1", "'oh1'", "does not fit"},
    {"ic3oc8ih9kh3dh1sh2ph0oh5", "'oh5'", "3 or 4"},
    /* 3 - 4 = -1 rows of slack: one output, reading the end padding. */
    {"ic3oc8ih3kh4sh2ph0oh2", "'oh2'", "only be 1"},
    {"ic3oc8ih2kh5", "'kh5'", "empty"},
    {"ic3oc8ih5kh3dh3", "'kh3'", "empty"},
    {"ic3oc8ih5iw9kh3kw11", "'kw11'", "empty"},
    /* 5 + 2*2147483647 - 3 + 1 rows: more than a key can say. */
    {"ic1oc1ih5kh3ph2147483647", "'ph2147483647'", "more than 2147483647"},
    {"ic3oc8ih5kh3n\"x\"y", "'y'", "after the name"},
    {"ic3oc8ih5kh3n\"x\" kh2", "' kh2'", "after the name"},
    {"ic3oc8ih5kh3n\"abc", "'n\"abc'", "closing quote"},
    {"ic3oc8ih5kh3n'abc'", "'n'abc''", "double quotes"},
    {"ic3oc8ih5kh3n\"x*0\"", "'*0'", "count"},
    {"ic3oc8ih5 kh3", "' kh3'", "expected a key"},
    {"ic3oc8ih5kh3#x", "'#x'", "expected a key"},
    {"", "''", "empty"},
    {"   ", "''", "empty"},
};

static void expect_reject(const reject_case *c)
{
    bench_shape s;
    char err[512];

    memset(err, 0, sizeof err);
    if (bench_shape_parse(c->text, 0, &s, err, sizeof err) == 0)
        fail_msg("'%s' accepted as %s", c->text, s.text);
    if (strstr(err, c->token) == NULL || strstr(err, c->rule) == NULL)
        fail_msg("'%s': message \"%s\" does not quote %s or say '%s'",
                 c->text, err, c->token, c->rule);
}

static void test_rejections(void **state)
{
    char err[64];

    for (size_t i = 0; i < sizeof rejects / sizeof rejects[0]; i++)
        expect_reject(&rejects[i]);

    /* No text, and no room for a message: still a clean -1. */
    assert_int_equal(bench_shape_parse(NULL, 0, NULL, err, sizeof err), -1);
    assert_int_equal(bench_shape_parse("kh0", 0, NULL, NULL, 0), -1);
}

static void test_long_name_rejected(void **state)
{
    char text[400];
    reject_case c = {text, "'n\"", "longer than"};

    snprintf(text, sizeof text, "ic1oc1ih1kh1n\"%0200d\"", 7);
    expect_reject(&c);
}

/* A shape the grammar accepts but the descriptor check refuses: the
 * message is the check's reason (callers name the descriptor or the
 * file:line themselves). */
static void test_desc_check_reason(void **state)
{
    const char *text = "mb2147483647ic2147483647oc1ih2147483647kh1";
    bench_shape s;
    char err[512] = "";

    assert_int_equal(bench_shape_parse(text, 0, &s, err, sizeof err), -1);
    assert_true(conv_reason()[0] != '\0');
    if (strstr(err, conv_reason()) == NULL || strstr(err, "overflow") == NULL)
        fail_msg("message \"%s\" lacks the reason \"%s\"", err,
                 conv_reason());
}

/* ---- Shipped suites ------------------------------------------------ */

typedef struct name_list {
    char names[64][64];
    int n;
} name_list;

static void collect(const char *name, void *arg)
{
    name_list *l = arg;

    assert_true(l->n < 64);
    snprintf(l->names[l->n++], sizeof l->names[0], "%s", name);
}

static bench_suite load_ok(const char *name, int64_t mb)
{
    bench_suite s;
    char err[1024] = "";

    if (bench_suite_load(name, mb, &s, err, sizeof err) != 0)
        fail_msg("suite '%s': %s", name, err);
    return s;
}

static void test_every_suite_loads(void **state)
{
    static const char *const expected[] = {
        "alexnet", "awkward", "default", "mobilenet_v1", "resnet_50",
        "sweep_channels", "sweep_kernel", "sweep_padding", "sweep_stride",
        "vgg_16",
    };
    name_list l = {.n = 0};
    int count = bench_suites_each(collect, &l);

    assert_int_equal(count, l.n);
    for (int i = 1; i < l.n; i++)
        assert_true(strcmp(l.names[i - 1], l.names[i]) < 0);
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
        int found = 0;

        for (int j = 0; j < l.n; j++)
            found |= strcmp(l.names[j], expected[i]) == 0;
        if (!found)
            fail_msg("suite '%s' not in %s", expected[i], bench_suites_dir());
    }

    /* Every line parses, has a name, and writes a text that reads back. */
    for (int i = 0; i < l.n; i++) {
        bench_suite s = load_ok(l.names[i], 1);

        assert_string_equal(s.name, l.names[i]);
        for (int j = 0; j < s.n; j++) {
            char origin[1200];

            snprintf(origin, sizeof origin, "%s:%d", s.path,
                     s.shapes[j].line);
            assert_int_equal(s.shapes[j].desc.n, 1);
            assert_true(s.shapes[j].name[0] != '\0');
            assert_true(j == 0 || s.shapes[j].line > s.shapes[j - 1].line);
            expect_round_trip(&s.shapes[j], origin);
        }
        bench_suite_free(&s);
    }
}

/* Layers weighted by count, and the multiply-adds of the whole network
 * counted as the literature does (every kernel tap, padding included),
 * against the published totals of its convolution layers. */
static void expect_network(const char *suite, int layers, double gmacs)
{
    bench_suite s = load_ok(suite, 1);
    double macs = 0;
    int count = 0;

    for (int i = 0; i < s.n; i++) {
        const conv_desc *d = &s.shapes[i].desc;
        size_t len = strlen(suite);

        if (strncmp(s.shapes[i].name, suite, len) != 0
            || s.shapes[i].name[len] != ':')
            fail_msg("%s:%d: name '%s' is not %s:LAYER", s.path,
                     s.shapes[i].line, s.shapes[i].name, suite);
        count += s.shapes[i].count;
        macs += (double)s.shapes[i].count * (double)d->k
                * (double)(d->c / d->groups) * (double)(d->r * d->s)
                * (double)(d->p * d->q);
    }
    if (count != layers || macs < 0.985e9 * gmacs || macs > 1.015e9 * gmacs)
        fail_msg("%s: %d layers and %.4g GMAC, expected %d and %.4g", suite,
                 count, macs / 1e9, layers, gmacs);
    bench_suite_free(&s);
}

static void test_networks(void **state)
{
    /* He et al. give 3.8e9 multiply-adds for ResNet-50; the convolutions
     * of the Caffe model add up to 3.86e9. VGG-16's convolutions: 15.35e9.
     * AlexNet's, grouped: 0.666e9. MobileNet v1 (Howard et al.): 569e6
     * in all, of which the 1000-way classifier takes 1.02e6. */
    expect_network("resnet_50", 53, 3.86);
    expect_network("vgg_16", 13, 15.35);
    expect_network("alexnet", 5, 0.666);
    expect_network("mobilenet_v1", 27, 0.568);
}

/* n"sweep_NAME:KEY=VALUE": the plots read VALUE as the x coordinate, so it
 * must agree with the shape. */
static void expect_sweep(const char *suite, const char *key)
{
    bench_suite s = load_ok(suite, 0);

    for (int i = 0; i < s.n; i++) {
        const bench_shape *sh = &s.shapes[i];
        const conv_desc *d = &sh->desc;
        char want[160];
        int64_t value = key[0] == 's' ? d->stride_h
                        : key[0] == 'p' ? d->pad_top
                        : key[0] == 'c' ? d->c : d->r;

        snprintf(want, sizeof want, "%s:%s=%lld", suite, key,
                 (long long)value);
        if (strcmp(sh->name, want) != 0)
            fail_msg("%s:%d: name '%s', expected '%s'", s.path, sh->line,
                     sh->name, want);
        assert_int_equal(d->n, 2);
    }
    bench_suite_free(&s);
}

static void test_sweep_names(void **state)
{
    expect_sweep("sweep_stride", "s");
    expect_sweep("sweep_padding", "p");
    expect_sweep("sweep_channels", "c");
    expect_sweep("sweep_kernel", "k");
}

/* default.txt is batch 1, and each line is the line of the same name in
 * the full suite it comes from. */
static void test_default_is_a_subset(void **state)
{
    bench_suite def = load_ok("default", 0);

    for (int i = 0; i < def.n; i++) {
        const bench_shape *a = &def.shapes[i];
        char suite[64];
        bench_suite full;
        int found = 0;

        assert_int_equal(a->desc.n, 1);
        snprintf(suite, sizeof suite, "%.*s",
                 (int)strcspn(a->name, ":"), a->name);
        full = load_ok(suite, 1);
        for (int j = 0; j < full.n; j++)
            found |= !strcmp(full.shapes[j].name, a->name)
                     && full.shapes[j].count == a->count
                     && same_desc(&full.shapes[j].desc, &a->desc);
        if (!found)
            fail_msg("default:%d: '%s' is not in suite '%s'", a->line,
                     a->text, suite);
        bench_suite_free(&full);
    }
    bench_suite_free(&def);
}

static void test_suite_mb_override(void **state)
{
    bench_suite s = load_ok("alexnet", 5);

    for (int i = 0; i < s.n; i++)
        assert_int_equal(s.shapes[i].desc.n, 5);
    bench_suite_free(&s);
}

/* ---- Suite files written here -------------------------------------- */

static char tmp_dir[64];

static int make_tmp(void **state)
{
    return test_make_dir(tmp_dir, sizeof tmp_dir, "test_shapes");
}

static int remove_tmp(void **state)
{
    return test_remove_dir(tmp_dir);
}

/* Writes `text` to tmp_dir/name; the full path goes to path. */
static void write_file(const char *name, const char *text, char *path,
                       size_t n)
{
    snprintf(path, n, "%s/%s", tmp_dir, name);
    test_write_file(path, text);
}

/* Loads `path`, which must fail with a message holding both parts. */
static void expect_load_error(const char *path, const char *a,
                              const char *b)
{
    bench_suite s;
    char err[1024] = "";

    assert_int_equal(bench_suite_load(path, 0, &s, err, sizeof err), -1);
    assert_null(s.shapes);
    assert_int_equal(s.n, 0);
    if (strstr(err, a) == NULL || strstr(err, b) == NULL)
        fail_msg("loading %s: \"%s\" lacks '%s' or '%s'", path, err, a, b);
}

static void test_suite_lines(void **state)
{
    char path[256], where[300];
    bench_suite s;

    /* Comments, blanks, indentation and CRLF endings are all fine. */
    write_file("good.txt", "# a comment\n\n   \t\n  ic3oc8ih5kh3  \n"
               "  # indented comment\nic4oc4ih7kh3ph1n\"x:y*2\"\r\n", path,
               sizeof path);
    s = load_ok(path, 0);
    assert_string_equal(s.name, "good");
    assert_string_equal(s.path, path);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.shapes[0].line, 4);
    assert_int_equal(s.shapes[1].line, 6);
    assert_string_equal(s.shapes[1].name, "x:y");
    assert_int_equal(s.shapes[1].count, 2);
    bench_suite_free(&s);
    assert_null(s.shapes);

    /* An error on line 4 names the file, the line and the token. */
    write_file("bad.txt", "# header\n\nic3oc8ih5kh3n\"ok\"\n"
               "   ic3oc8ih5kh0  \nic3oc8ih5kh3\n", path, sizeof path);
    snprintf(where, sizeof where, "%s:4: ", path);
    expect_load_error(path, where, "'kh0'");
}

static void test_unreadable_suites(void **state)
{
    char path[256];

    expect_load_error("/nonexistent_dir_of_test_shapes/s.txt",
                      "/nonexistent_dir_of_test_shapes/s.txt",
                      strerror(ENOENT));
    expect_load_error("no_such_suite", "no_such_suite.txt",
                      strerror(ENOENT));

    write_file("empty.txt", "", path, sizeof path);
    expect_load_error(path, path, "no shapes");
    write_file("comments.txt", "# nothing\n\n#here\n", path, sizeof path);
    expect_load_error(path, path, "no shapes");

    /* A directory opens but cannot be read as lines. */
    snprintf(path, sizeof path, "%s/", tmp_dir);
    expect_load_error(path, path, strerror(EISDIR));
}

static void test_suites_dir(void **state)
{
    char dir_env[128], path[256];
    name_list l = {.n = 0};
    const char *dir;
    bench_suite s;
    struct stat st;

    /* $CONVBENCH_SUITES wins; only NAME.txt files are suites, sorted. */
    snprintf(dir_env, sizeof dir_env, "%s/suites", tmp_dir);
    assert_int_equal(mkdir(dir_env, 0755), 0);
    write_file("suites/zeta.txt", "ic1oc1ih1kh1\n", path, sizeof path);
    write_file("suites/alpha.txt", "ic2oc2ih2kh1\n", path, sizeof path);
    write_file("suites/notes.md", "ic2oc2ih2kh1\n", path, sizeof path);
    write_file("suites/.hidden.txt", "ic2oc2ih2kh1\n", path, sizeof path);
    assert_int_equal(setenv("CONVBENCH_SUITES", dir_env, 1), 0);
    assert_string_equal(bench_suites_dir(), dir_env);
    assert_int_equal(bench_suites_each(collect, &l), 2);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.names[0], "alpha");
    assert_string_equal(l.names[1], "zeta");
    s = load_ok("alpha", 0);
    assert_int_equal(s.shapes[0].desc.c, 2);
    bench_suite_free(&s);
    assert_int_equal(unsetenv("CONVBENCH_SUITES"), 0);

    /* The test binary is build/tests/test_shapes: the tree's suites. */
    dir = bench_suites_dir();
    assert_true(strlen(dir) >= strlen("harness/suites"));
    assert_string_equal(dir + strlen(dir) - strlen("harness/suites"),
                        "harness/suites");
    assert_int_equal(stat(dir, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_lines),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_mb_override),
        cmocka_unit_test(test_rejections),
        cmocka_unit_test(test_long_name_rejected),
        cmocka_unit_test(test_desc_check_reason),
        cmocka_unit_test(test_every_suite_loads),
        cmocka_unit_test(test_networks),
        cmocka_unit_test(test_sweep_names),
        cmocka_unit_test(test_default_is_a_subset),
        cmocka_unit_test(test_suite_mb_override),
        cmocka_unit_test(test_suite_lines),
        cmocka_unit_test(test_unreadable_suites),
        cmocka_unit_test(test_suites_dir),
    };

    return cmocka_run_group_tests(tests, make_tmp, remove_tmp);
}
