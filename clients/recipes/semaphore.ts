// Client-side helpers of the semaphore recipe (see API.md "Recipes"), built on CairnClient.call/subscribe.
export {};
