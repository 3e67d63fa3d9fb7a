#ifndef CIBRIDGE_CHIREDIS_SHIM_H
#define CIBRIDGE_CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>
#endif
