package api

// routes is every endpoint of the API. docs/openapi.yaml lists exactly
// these (a test checks it both ways), and the isolation and role tests
// iterate over it.
var routes = []route{
	{"POST", "/api/v1/login", public, (*API).login},
	{"POST", "/api/v1/logout", agentRole, (*API).logout},
	{"GET", "/api/v1/me", agentRole, (*API).me},
	{"PUT", "/api/v1/me/status", agentRole, (*API).setStatus},

	{"GET", "/api/v1/agents", agentRole, (*API).listAgents},
	{"POST", "/api/v1/agents", adminRole, (*API).createAgent},
	{"GET", "/api/v1/agents/{id}", agentRole, (*API).getAgent},
	{"PATCH", "/api/v1/agents/{id}", adminRole, (*API).patchAgent},
	{"DELETE", "/api/v1/agents/{id}", adminRole, (*API).deleteAgent},
	{"POST", "/api/v1/agents/{id}/password", adminRole, (*API).resetPassword},

	{"GET", "/api/v1/groups", agentRole, (*API).listGroups},
	{"PUT", "/api/v1/groups/{id}", adminRole, (*API).putGroup},
	{"DELETE", "/api/v1/groups/{id}", adminRole, (*API).deleteGroup},

	{"GET", "/api/v1/conversations", agentRole, (*API).listConversations},
	{"GET", "/api/v1/conversations/{id}", agentRole, (*API).getConversation},
	{"GET", "/api/v1/conversations/{id}/messages", agentRole, (*API).listMessages},
	{"POST", "/api/v1/conversations/{id}/messages", agentRole, (*API).send},
	{"POST", "/api/v1/conversations/{id}/claim", agentRole, (*API).claim},
	{"POST", "/api/v1/conversations/{id}/transfer", agentRole, (*API).transfer},
	{"POST", "/api/v1/conversations/{id}/close", agentRole, (*API).closeConv},
	{"POST", "/api/v1/conversations/{id}/reopen", agentRole, (*API).reopen},

	{"GET", "/api/v1/queue", agentRole, (*API).queue},
	{"GET", "/api/v1/search", agentRole, (*API).search},
	{"GET", "/api/v1/stats", agentRole, (*API).stats},

	{"GET", "/api/v1/canned", agentRole, (*API).listCanned},
	{"GET", "/api/v1/canned/by-shortcut/{shortcut}", agentRole, (*API).cannedByShortcut},
	{"POST", "/api/v1/canned", agentRole, (*API).createCanned},
	{"PUT", "/api/v1/canned/{id}", agentRole, (*API).updateCanned},
	{"DELETE", "/api/v1/canned/{id}", agentRole, (*API).deleteCanned},

	{"GET", "/api/v1/visitors/{id}", agentRole, (*API).getVisitor},
	{"GET", "/api/v1/visitors/{id}/conversations", agentRole, (*API).visitorConversations},

	{"GET", "/api/v1/site", adminRole, (*API).getSite},
	{"PATCH", "/api/v1/site", adminRole, (*API).patchSite},
	{"POST", "/api/v1/site/secret", adminRole, (*API).rotateSecret},

	{"GET", "/api/v1/webhooks", adminRole, (*API).listWebhooks},
	{"POST", "/api/v1/webhooks", adminRole, (*API).createWebhook},
	{"DELETE", "/api/v1/webhooks/{id}", adminRole, (*API).deleteWebhook},
	{"GET", "/api/v1/webhooks/dead", adminRole, (*API).listDead},
	{"POST", "/api/v1/webhooks/dead/{id}/retry", adminRole, (*API).retryDead},

	{"POST", "/api/v1/uploads", visitorOrAgent, (*API).upload},
	{"OPTIONS", "/api/v1/uploads", public, (*API).uploadPreflight},
	{"GET", "/files/{name}", public, (*API).serveFile},
}
