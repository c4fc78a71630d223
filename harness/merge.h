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
 * Exit status: 0; 1 if writing failed; 2 for bad input.
 */
int merge_main(int argc, char **argv);

#endif
