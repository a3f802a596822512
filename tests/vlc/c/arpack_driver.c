/* arpack_driver.c — ARPACK's symmetric reverse-communication loop (dsaupd_/dseupd_) on the 1-D
 * Laplacian tridiag(-1, 2, -1) of order n, whose eigenvalues are 2 - 2 cos(k pi / (n + 1)).
 * Linked against libarpack.so.2, so loading this driver into a context gives it its own ARPACK. */
#include <stdlib.h>
#include <string.h>

void dsaupd_(int *ido, const char *bmat, const int *n, const char *which, const int *nev, const double *tol,
             double *resid, const int *ncv, double *v, const int *ldv, int *iparam, int *ipntr, double *workd,
             double *workl, const int *lworkl, int *info, size_t bmat_len, size_t which_len);
void dseupd_(const int *rvec, const char *howmny, int *select, double *d, double *z, const int *ldz,
             const double *sigma, const char *bmat, const int *n, const char *which, const int *nev,
             const double *tol, double *resid, const int *ncv, double *v, const int *ldv, int *iparam,
             int *ipntr, double *workd, double *workl, const int *lworkl, int *info, size_t howmny_len,
             size_t bmat_len, size_t which_len);

static void laplacian(int n, const double *x, double *y)
{
    for (int i = 0; i < n; i++)
        y[i] = 2 * x[i] - (i ? x[i - 1] : 0) - (i + 1 < n ? x[i + 1] : 0);
}

/* The nev largest eigenvalues, ascending, into vals. Returns ARPACK's info (0 = converged), or
 * -1000 on allocation failure. matvecs receives the number of operator applications. */
int arpack_solve(int n, int nev, int ncv, double *vals, int *matvecs)
{
    int ldv = n, lworkl = ncv * (ncv + 8), ido = 0, info = 0, rvec = 0;
    int iparam[11] = {0}, ipntr[11] = {0};
    double tol = 0, sigma = 0;
    iparam[0] = 1;       /* exact shifts */
    iparam[2] = 100000;  /* max iterations */
    iparam[6] = 1;       /* mode 1: standard problem */
    double *resid = calloc((size_t)n, sizeof *resid), *v = calloc((size_t)n * ncv, sizeof *v);
    double *workd = calloc(3 * (size_t)n, sizeof *workd), *workl = calloc((size_t)lworkl, sizeof *workl);
    double *d = calloc((size_t)nev, sizeof *d);
    int *select = calloc((size_t)ncv, sizeof *select);
    if (!resid || !v || !workd || !workl || !d || !select)
        return -1000;
    int count = 0;
    for (;;) {
        dsaupd_(&ido, "I", &n, "LA", &nev, &tol, resid, &ncv, v, &ldv, iparam, ipntr, workd, workl, &lworkl,
                &info, 1, 2);
        if (ido != 1 && ido != -1)
            break;
        laplacian(n, workd + ipntr[0] - 1, workd + ipntr[1] - 1);
        count++;
    }
    if (info >= 0)
        dseupd_(&rvec, "A", select, d, v, &ldv, &sigma, "I", &n, "LA", &nev, &tol, resid, &ncv, v, &ldv, iparam,
                ipntr, workd, workl, &lworkl, &info, 1, 1, 2);
    memcpy(vals, d, (size_t)nev * sizeof *d);
    if (matvecs)
        *matvecs = count;
    free(resid); free(v); free(workd); free(workl); free(d); free(select);
    return info;
}
