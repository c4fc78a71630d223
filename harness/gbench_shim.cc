// The C API of gbench.h over Google Benchmark 1.7.
//
// A sweep runs one case at a time (a case's plan and buffers exist only
// while it runs), so Google Benchmark is called once per case. Two
// reporters that outlive those calls make the separate runs read as one:
// the console report prints its context header once, and the JSON
// document is kept in memory and written whole at the end, so no
// half-written JSON file can be left behind by a killed sweep.
#include "gbench.h"

#include <benchmark/benchmark.h>

#include <algorithm>
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

    std::string finish()
    {
        if (!started_)
            json_.ReportContext(Context());
        started_ = true;
        json_.Finalize();
        return text_.str();
    }

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
char opt_filter[] = "--benchmark_filter=all";
// The JSON reporter is ours, but the library insists on a file name.
char opt_out[] = "--benchmark_out=/dev/null";

}  // namespace

extern "C" int gbench_init(int *argc, char **argv, void (*help)(void))
{
    std::vector<char *> gb = {argv[0], opt_repetitions, opt_min_time,
                              opt_warmup, opt_aggregates, opt_unit,
                              opt_filter};
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

extern "C" int gbench_finish(FILE *f)
{
    shim &s = the_shim();
    int st = 0;

    try {
        s.display->finish();
        if (f != nullptr) {
            std::string doc = s.json->finish();

            if (std::fwrite(doc.data(), 1, doc.size(), f) != doc.size())
                st = -1;
        }
    } catch (...) {
        st = -1;
    }

    // A later sweep in the same process starts its reports afresh.
    s.display.reset(new display_once);
    s.json.reset(new json_keeper);
    return st;
}
