/*
 * noexport.c - a shared object without a RegisterModule symbol: iisd must
 * refuse to start and report the dlsym error for it.
 */
int iisd_test_not_a_module(void);

int iisd_test_not_a_module(void)
{
    return 42;
}
