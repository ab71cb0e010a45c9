#include "erp.h"

#include <stdlib.h>
#include <string.h>

void erp_stock_page_cleanup(struct erp_stock_page *p)
{
	for (size_t i = 0; i < p->nrejects; i++)
		free(p->rejects[i].json);
	free(p->rejects);
	free(p->items);
	memset(p, 0, sizeof *p);
}

void erp_change_page_cleanup(struct erp_change_page *p)
{
	free(p->orders);
	free(p->complaints);
	memset(p, 0, sizeof *p);
}

void erp_free(struct erp *erp)
{
	if (erp)
		erp->ops->free(erp);
}
