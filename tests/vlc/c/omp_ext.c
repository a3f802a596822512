/* omp_ext.c — Python extension module `omp_ext` around omp_team.c (built with gcc -fopenmp by
 * tests/vlc/test_routed_gomp.py). team() releases the GIL around the parallel region and returns
 * (team size, [(thread number, tid, affinity mask), ...], loop sum, omp_get_max_threads()). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

int omp_team(int *nthreads, int *nums, int *tids, uint64_t *masks, int cap, long *sum, int *max_threads);

static PyObject *team(PyObject *self, PyObject *unused)
{
    int nthreads, nums[256], tids[256], maxt, n;
    uint64_t masks[256];
    long sum;
    Py_BEGIN_ALLOW_THREADS
    n = omp_team(&nthreads, nums, tids, masks, 256, &sum, &maxt);
    Py_END_ALLOW_THREADS
    PyObject *members = PyList_New(n);
    if (!members)
        return NULL;
    for (int i = 0; i < n; i++)
        PyList_SET_ITEM(members, i, Py_BuildValue("(iiK)", nums[i], tids[i], (unsigned long long)masks[i]));
    return Py_BuildValue("(iNli)", nthreads, members, sum, maxt);
}

static PyMethodDef methods[] = {{"team", team, METH_NOARGS, "run one OpenMP region"}, {NULL}};
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "omp_ext", NULL, -1, methods};

PyMODINIT_FUNC PyInit_omp_ext(void)
{
    return PyModule_Create(&def);
}
