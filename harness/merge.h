/* `convbench merge`: one table from the CSVs of a sharded sweep. */
#ifndef BENCH_MERGE_H
#define BENCH_MERGE_H

/*
 * convbench merge OUT.csv IN.csv...
 *
 * Joins tables `convbench bench` wrote (for instance with --shard K/N)
 * into OUT.csv: their rows in the order given. Every input must be a
 * complete table with the convbench header. A case is identified by
 * (layer, desc, algo, threads); two rows of the same case, in one file
 * or two, are an error naming both places as FILE:LINE, since a merge
 * cannot tell which measurement to keep. OUT.csv is written to a
 * temporary file beside it and renamed into place, so it is either the
 * whole merge or untouched; it may be one of the inputs.
 *
 * The phases tables beside the inputs (IN.phases.csv for IN.csv, as
 * `bench` writes them) are joined the same way, in the same order and
 * under the same duplicate rule, into OUT.phases.csv. A phases row whose
 * case has no row in its own IN.csv is dropped with a message: `bench`
 * leaves one when a sweep is killed between a case's two rows, and
 * --resume drops it too. OUT.phases.csv is replaced only if the whole
 * merge succeeds; when no phases row is left it is removed, so that it
 * always belongs to OUT.csv. Both are written to temporaries first; the
 * old OUT.phases.csv is removed before either is renamed into place, so
 * an interrupted install leaves OUT.csv without a phases table rather
 * than beside another merge's.
 *
 * convbench merge --median OUT.csv IN.csv...
 *
 * Repeated runs of the same cases (one suite benched several times, to
 * average a shared machine's slow spells out) into OUT.csv: each case's
 * row of the first input, with the median of the inputs' time_ms (the
 * mean of the middle two for an even count), the smallest time_min_ms,
 * and gflops and peak_fraction at that median. Every input must hold
 * the same cases, each once and with the same status and implementation
 * (auto's pick included), in any order; otherwise nothing is written
 * and the message names the place. Phases tables are not combined: an
 * old OUT.phases.csv is removed.
 * TODO: `bench --rounds N` could run the N runs itself and end with this
 * merge; until then the README shows the loop.
 *
 * Exit status: 0; 1 if writing failed; 2 for bad input.
 */
int merge_main(int argc, char **argv);

#endif
