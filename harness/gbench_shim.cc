// The C API of gbench.h over Google Benchmark 1.7.
//
// A sweep runs one case at a time (a case's plan and buffers exist only
// while it runs), so Google Benchmark is called once per case. Two
// reporters that outlive those calls make the separate runs read as one:
// the console report prints its context header once, and the JSON
// document is kept in memory, to be written whole whenever the caller
// asks (so a file on disk is never half a document).
#include "gbench.h"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace {

// A gbench_state is never defined: it is a benchmark::State seen from C.
benchmark::State &state_of(gbench_state *s)
{
    return *reinterpret_cast<benchmark::State *>(s);
}

// Google Benchmark aggregates mean, median, stddev and cv; the minimum
// over repetitions is the other figure the project reports.
double stat_min(const std::vector<double> &v)
{
    return v.empty() ? 0.0 : *std::min_element(v.begin(), v.end());
}

// The reporter --benchmark_format chose, with its context printed once
// for the whole sweep and its name column wide enough for every case.
class display_once : public benchmark::BenchmarkReporter {
public:
    size_t width = 0;

    bool ReportContext(const Context &c) override
    {
        if (started_)
            return true;
        started_ = true;
        Context wide = c;
        wide.name_field_width = std::max(c.name_field_width, width);
        return inner()->ReportContext(wide);
    }

    void ReportRuns(const std::vector<Run> &runs) override
    {
        inner()->ReportRuns(runs);
    }

    // The sweep's end, not one case's, closes the report.
    void Finalize() override {}

    void finish()
    {
        if (started_)
            inner()->Finalize();
    }

private:
    bool started_ = false;
    BenchmarkReporter *inner_ = nullptr;

    BenchmarkReporter *inner()
    {
        if (inner_ == nullptr)
            inner_ = benchmark::CreateDefaultDisplayReporter();
        return inner_;
    }
};

// Google Benchmark's JSON of every case, in memory, and the hand-back of
// each run to C.
class json_keeper : public benchmark::BenchmarkReporter {
public:
    gbench_result_fn fn = nullptr;
    void *user = nullptr;

    json_keeper() { json_.SetOutputStream(&text_); }

    bool ReportContext(const Context &c) override
    {
        if (!started_)
            json_.ReportContext(c);
        started_ = true;
        return true;
    }

    void ReportRuns(const std::vector<Run> &runs) override
    {
        json_.ReportRuns(runs);
        for (const Run &r : runs)
            hand_back(r);
    }

    void Finalize() override {}

    // The document as JSONReporter would finish it now, with `earlier`
    // entries first. It writes the context, then '"benchmarks": [' and a
    // line end, then the entries; Finalize would close with "\n  ]\n}\n".
    std::string snapshot(const std::string &earlier)
    {
        if (!started_)
            json_.ReportContext(Context());
        started_ = true;

        std::string text = text_.str();
        size_t at = text.find(list_open) + list_open.size();
        std::string head = text.substr(0, at), runs = text.substr(at);
        const char *join = !earlier.empty() && !runs.empty() ? ",\n" : "";

        return head + earlier + join + runs + "\n  ]\n}\n";
    }

    static const std::string list_open;

private:
    benchmark::JSONReporter json_;
    std::ostringstream text_;
    bool started_ = false;

    void hand_back(const Run &r) const
    {
        std::vector<gbench_counter> counters;
        gbench_result g;

        for (const auto &c : r.counters)
            counters.push_back({c.first.c_str(), c.second.value});
        g.name = r.run_name.function_name.c_str();
        g.aggregate = r.aggregate_name.c_str();
        g.iterations = r.iterations;
        g.repetition = r.repetition_index;
        g.real_time = seconds_per_iteration(r);
        g.error = r.error_occurred ? r.error_message.c_str() : "";
        g.counters = counters.data();
        g.ncounters = static_cast<int>(counters.size());
        if (fn != nullptr)
            fn(&g, user);
    }

    // A percentage statistic (cv) carries its value unscaled.
    static double seconds_per_iteration(const Run &r)
    {
        if (r.run_type == Run::RT_Aggregate
            && r.aggregate_unit == benchmark::kPercentage)
            return r.real_accumulated_time;
        return r.GetAdjustedRealTime()
               / benchmark::GetTimeUnitMultiplier(r.time_unit);
    }
};

const std::string json_keeper::list_open = "\"benchmarks\": [\n";

struct shim {
    std::unique_ptr<display_once> display{new display_once};
    std::unique_ptr<json_keeper> json{new json_keeper};
    std::vector<std::string> names;
    void (*help)(void) = nullptr;
};

shim &the_shim()
{
    static shim s;
    return s;
}

// Whether --benchmark_filter selects `name`, as Google Benchmark decides
// (a regex search, '-' in front negates); checked here so cases it skips
// do not each print a "failed to match" complaint.
bool selected(const std::string &name)
{
    std::string spec = benchmark::GetBenchmarkFilter();
    bool negative = !spec.empty() && spec[0] == '-';

    if (spec.empty() || spec == "all")
        return true;
    if (negative)
        spec.erase(0, 1);
    try {
        std::regex re(spec, std::regex::extended);
        return std::regex_search(name + "/real_time", re) != negative;
    } catch (const std::regex_error &) {
        return true;  // Google Benchmark reports the bad pattern itself
    }
}

bool owned_flag(const char *a)
{
    return std::strncmp(a, "--benchmark_out", 15) == 0;
}

// --help: the caller's usage, then Google Benchmark's flags.
void print_help()
{
    if (the_shim().help != nullptr)
        the_shim().help();
    benchmark::PrintDefaultHelp();
}

// The defaults a sweep wants, before the user's flags so theirs win.
char opt_repetitions[] = "--benchmark_repetitions=5";
char opt_min_time[] = "--benchmark_min_time=0.1";
char opt_warmup[] = "--benchmark_min_warmup_time=0.05";
char opt_aggregates[] = "--benchmark_display_aggregates_only=true";
char opt_unit[] = "--benchmark_time_unit=ms";
// The cases registered together (one shape's algorithms) alternate their
// repetitions, so a slow spell of a shared machine hits all of them.
char opt_interleave[] = "--benchmark_enable_random_interleaving=true";
char opt_filter[] = "--benchmark_filter=all";
// The JSON reporter is ours, but the library insists on a file name.
char opt_out[] = "--benchmark_out=/dev/null";

}  // namespace

extern "C" int gbench_init(int *argc, char **argv, void (*help)(void))
{
    std::vector<char *> gb = {argv[0], opt_repetitions, opt_min_time,
                              opt_warmup, opt_aggregates, opt_unit,
                              opt_interleave, opt_filter};
    std::vector<char *> held;
    int n;

    the_shim().help = help;
    for (int i = 1; i < *argc; i++)
        (owned_flag(argv[i]) ? held : gb).push_back(argv[i]);
    gb.push_back(opt_out);
    gb.push_back(nullptr);
    n = static_cast<int>(gb.size()) - 1;
    benchmark::Initialize(&n, gb.data(), print_help);

    // What is left: the caller's own arguments, then the held flags.
    held.insert(held.begin(), gb.begin() + 1, gb.begin() + n);
    *argc = 1 + static_cast<int>(held.size());
    std::copy(held.begin(), held.end(), argv + 1);
    argv[*argc] = nullptr;
    return 0;
}

extern "C" void gbench_add_context(const char *key, const char *value)
{
    // AddCustomContext refuses a key twice; a second sweep in the same
    // process (the tests) must be able to update its values.
    auto *&context = benchmark::internal::GetGlobalContext();

    if (context == nullptr || context->count(key) == 0)
        benchmark::AddCustomContext(key, value);
    else
        (*context)[key] = value;
}

extern "C" void gbench_set_name_width(int width)
{
    size_t w = static_cast<size_t>(std::max(width, 0));

    // Aggregates append a suffix such as "_median" to the name.
    w += std::strlen("/real_time_median");
    display_once &d = *the_shim().display;

    d.width = std::max(d.width, w);
}

extern "C" int gbench_selected(const char *name)
{
    try {
        return selected(name);
    } catch (...) {
        return 1;
    }
}

extern "C" int gbench_register(const char *name, gbench_fn fn, void *arg)
{
    try {
        auto body = [fn, arg](benchmark::State &st) {
            fn(reinterpret_cast<gbench_state *>(&st), arg);
        };

        benchmark::RegisterBenchmark(name, body)
            ->UseRealTime()
            ->ComputeStatistics("min", stat_min);
        the_shim().names.push_back(name);
        return 0;
    } catch (...) {
        return -1;
    }
}

extern "C" int gbench_keep_running(gbench_state *st)
{
    return state_of(st).KeepRunning();
}

extern "C" void gbench_pause(gbench_state *st)
{
    state_of(st).PauseTiming();
}

extern "C" void gbench_resume(gbench_state *st)
{
    state_of(st).ResumeTiming();
}

extern "C" void gbench_set_counter(gbench_state *st, const char *name,
                                   double value, gbench_counter_kind kind)
{
    using benchmark::Counter;
    Counter::Flags f = kind == GBENCH_PER_SECOND
                           ? Counter::kIsIterationInvariantRate
                           : Counter::kDefaults;

    state_of(st).counters[name] = benchmark::Counter(value, f);
}

extern "C" void gbench_skip_with_error(gbench_state *st, const char *msg)
{
    state_of(st).SkipWithError(msg);
}

extern "C" int gbench_run(gbench_result_fn fn, void *user)
{
    shim &s = the_shim();
    int ran = 0;

    try {
        bool any = std::any_of(s.names.begin(), s.names.end(), selected);

        s.json->fn = fn;
        s.json->user = user;
        if (any)
            ran = static_cast<int>(benchmark::RunSpecifiedBenchmarks(
                s.display.get(), s.json.get()));
    } catch (...) {
        ran = -1;
    }
    benchmark::ClearRegisteredBenchmarks();
    s.names.clear();
    s.json->fn = nullptr;
    return ran;
}

extern "C" int gbench_write_json(FILE *f, const char *earlier)
{
    try {
        std::string doc = the_shim().json->snapshot(earlier ? earlier : "");

        return std::fwrite(doc.data(), 1, doc.size(), f) == doc.size() ? 0
                                                                        : -1;
    } catch (...) {
        return -1;
    }
}

namespace {

// The text of doc's "benchmarks" list, if doc is a document snapshot()
// wrote: '"benchmarks": [', the list, ']', '}', nothing after but space.
bool list_of(const char *doc, std::string *list)
{
    const std::string &open = json_keeper::list_open;
    const char *start = std::strstr(doc, open.c_str());
    const char *end = doc + std::strlen(doc);

    if (doc[0] != '{' || start == nullptr)
        return false;
    start += open.size();
    for (char close : {'}', ']'}) {
        while (end > start && std::isspace((unsigned char)end[-1]))
            end--;
        if (end == start || *--end != close)
            return false;
    }
    *list = std::string(start, end);
    return true;
}

// The registered name in a JSON entry: its "run_name" without the
// "/real_time" the library appends, JSON escapes undone.
std::string entry_name(const std::string &entry)
{
    static const std::string key = "\"run_name\": \"";
    static const std::string suffix = "/real_time";
    size_t at = entry.find(key);
    std::string name;

    if (at == std::string::npos)
        return name;
    for (at += key.size(); at < entry.size() && entry[at] != '"'; at++) {
        if (entry[at] == '\\' && at + 1 < entry.size())
            at++;
        name += entry[at];
    }
    if (name.size() >= suffix.size()
        && name.compare(name.size() - suffix.size(), suffix.size(),
                        suffix) == 0)
        name.erase(name.size() - suffix.size());
    return name;
}

}  // namespace

extern "C" char *gbench_json_entries(const char *doc,
                                     int (*keep)(const char *, void *),
                                     void *user)
{
    try {
        std::string list, kept, line, entry;
        std::istringstream in;
        char *out;

        if (!list_of(doc, &list))
            return nullptr;

        // Each entry is the lines from "    {" to "    }" (then a comma).
        in.str(list);
        while (std::getline(in, line)) {
            entry += line + "\n";
            if (line != "    }" && line != "    },")
                continue;
            if (keep(entry_name(entry).c_str(), user)) {
                kept += kept.empty() ? "" : ",\n";
                kept += entry.substr(0, entry.find_last_of('}') + 1);
            }
            entry.clear();
        }

        out = static_cast<char *>(std::malloc(kept.size() + 1));
        if (out != nullptr)
            std::memcpy(out, kept.c_str(), kept.size() + 1);
        return out;
    } catch (...) {
        return nullptr;
    }
}

extern "C" void gbench_finish(void)
{
    shim &s = the_shim();

    try {
        s.display->finish();
    } catch (...) {
    }

    // A later sweep in the same process starts its reports afresh.
    s.display.reset(new display_once);
    s.json.reset(new json_keeper);
}
