// tcache_cxx.cc — C++ thread_local objects of a thread started after another one ended are
// constructed afresh, and each thread's destructors run (in reverse order of construction) on
// that thread before its join returns; exceptions and pthread_exit inside threads leave nothing
// behind for the next thread. Output: "NAME: ok" lines (see ../c/harness.h); stderr gets
// "reuse: T threads, K kernel threads".
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <exception>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

static int failures;
static void check(const char *name, bool ok, const std::string &why)
{
    if (ok)
        std::printf("%s: ok\n", name);
    else {
        std::printf("%s: FAIL %s\n", name, why.c_str());
        failures++;
    }
    std::fflush(stdout);
}

static pid_t tid() { return (pid_t)syscall(SYS_gettid); }

static std::mutex seen_lock;
static std::set<pid_t> seen;
static int nthreads;
static void note_tid()
{
    std::lock_guard<std::mutex> g(seen_lock);
    seen.insert(tid());
    nthreads++;
}

// Records constructions and destructions: (id, thread) pairs in order.
static std::mutex log_lock;
static std::vector<std::string> events;
static void log_event(const std::string &e)
{
    std::lock_guard<std::mutex> g(log_lock);
    events.push_back(e);
}

struct Tracked {
    std::string name;
    int value = 42;
    pid_t owner;
    explicit Tracked(const char *n) : name(n), owner(tid()) { log_event("ctor " + name); }
    ~Tracked()
    {
        log_event(std::string("dtor ") + name + (owner == tid() ? "" : " on another thread"));
    }
};

thread_local Tracked first("first");
thread_local Tracked second("second");
thread_local std::string text = "initial";
thread_local int counter = 5;

static void *use_both(void *)
{
    note_tid();
    bool fresh = first.value == 42 && second.value == 42 && text == "initial" && counter == 5;
    first.value = 1;
    second.value = 2;
    text = "changed by a previous thread, long enough to live on the heap";
    counter = 99;
    return (void *)(long)fresh;
}

static void *run1(void *(*fn)(void *), void *arg)
{
    pthread_t t;
    void *r = (void *)-1;
    if (pthread_create(&t, nullptr, fn, arg) != 0)
        return (void *)-2;
    pthread_join(t, &r);
    return r;
}

static void check_thread_local()
{
    bool fresh = true, order = true;
    for (int i = 0; i < 20; i++) {
        size_t before;
        {
            std::lock_guard<std::mutex> g(log_lock);
            before = events.size();
        }
        fresh &= (long)run1(use_both, nullptr) == 1;
        std::lock_guard<std::mutex> g(log_lock);
        std::vector<std::string> got(events.begin() + before, events.end());
        std::vector<std::string> want = {"ctor first", "ctor second", "dtor second", "dtor first"};
        if (got != want) {
            order = false;
            std::string all;
            for (auto &e : got)
                all += e + "; ";
            std::fprintf(stderr, "thread %d events: %s\n", i, all.c_str());
        }
    }
    check("thread_local_fresh", fresh, "a thread saw the previous thread's thread_local values");
    check("thread_local_destructors_before_join", order,
          "constructions/destructions per thread not ctor,ctor,dtor,dtor on the thread before join");
}

static void *throw_and_catch(void *)
{
    note_tid();
    bool clean = std::uncaught_exceptions() == 0 && !std::current_exception();
    try {
        throw std::runtime_error("inside a thread");
    } catch (const std::exception &e) {
        clean = clean && std::string(e.what()) == "inside a thread";
    }
    return (void *)(long)clean;
}

struct OnStack {
    std::atomic<int> *flag;
    ~OnStack() { flag->fetch_add(1); }
};
static std::atomic<int> unwound;
static void *exit_from_depth(void *)
{
    note_tid();
    OnStack s{&unwound};
    (void)first.value; // constructs thread_locals, destroyed at the real end of the thread
    pthread_exit((void *)7);
}

static void check_exceptions_and_exit()
{
    bool ok = true;
    for (int i = 0; i < 5; i++)
        ok &= (long)run1(throw_and_catch, nullptr) == 1;
    check("exceptions_leave_nothing", ok, "exception state carried into the next thread");

    size_t before;
    {
        std::lock_guard<std::mutex> g(log_lock);
        before = events.size();
    }
    void *r = run1(exit_from_depth, nullptr);
    bool fresh = (long)run1(use_both, nullptr) == 1;
    std::lock_guard<std::mutex> g(log_lock);
    long dtors = 0;
    for (size_t i = before; i < events.size(); i++)
        dtors += events[i].rfind("dtor", 0) == 0;
    check("pthread_exit_unwinds_then_fresh", (long)r == 7 && unwound.load() == 1 && fresh && dtors == 4,
          "result " + std::to_string((long)r) + ", stack objects unwound " + std::to_string(unwound.load()) +
              ", thread_local destructors " + std::to_string(dtors));
}

int main()
{
    check_thread_local();
    check_exceptions_and_exit();
    std::fprintf(stderr, "reuse: %d threads, %zu kernel threads\n", nthreads, seen.size());
    return failures > 100 ? 100 : failures;
}
