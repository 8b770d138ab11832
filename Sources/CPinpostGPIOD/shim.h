#ifndef CPINPOST_GPIOD_SHIM_H
#define CPINPOST_GPIOD_SHIM_H
#include <gpiod.h>
#endif
