/*
 * pins.h — name what was checked by its ID (see pins.c).
 */
#ifndef SG_PINS_H
#define SG_PINS_H

#include "body/spec.h"
#include "decide/facts.h"
#include "decide/verdict.h"

/* The ID the engine answered a look-up of `name` with, or NULL when there
 * is none or the name already is it (nothing to pin). */
const char *sg_pin_id(const sg_facts *facts, sg_fact_kind kind, const char *name);

/* The edits that name the containers and networks of an allowed create
 * or service spec by the IDs their look-ups returned. -1: out of memory. */
int sg_pins_spec(const sg_spec *spec, const sg_facts *facts, sg_edits *edits);

#endif
