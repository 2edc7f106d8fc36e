'use strict';
// Promise.withResolvers arrived in Node 22; aws-local-stepfunctions 3.x calls it in every
// Task state. On Node 20 preload this file: NODE_OPTIONS="--require /abs/path/polyfill.cjs".
if (typeof Promise.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers() {
      let resolve;
      let reject;
      const promise = new this((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}
