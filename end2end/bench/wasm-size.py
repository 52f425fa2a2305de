#!/usr/bin/env python3
# What takes the space in a wasm file: code bytes per crate and the largest functions, from the
# name section of the wasm rustc wrote (before wasm-bindgen and wasm-opt strip the names), e.g.
#   python3 end2end/bench/wasm-size.py target/front/wasm32-unknown-unknown/wasm-release/cloister_frontend.wasm 30
# Used for docs/benchmarks.md, "First visit" (twiggy gives the same per-function sizes).
import sys,re,collections
d=open(sys.argv[1],'rb').read()
def leb(d,i):
    r=s=0
    while True:
        b=d[i];i+=1;r|=(b&0x7f)<<s;s+=7
        if b<0x80:return r,i
i=8;secs={}
customs={}
while i<len(d):
    sid=d[i];i+=1;sz,i=leb(d,i)
    if sid==0:
        nl,j=leb(d,i);customs[d[j:j+nl].decode()]=(j+nl,i+sz)
    else: secs[sid]=(i,i+sz)
    i+=sz
# imported funcs
nimp=0
if 2 in secs:
    i,e=secs[2];n,i=leb(d,i)
    for _ in range(n):
        l,i=leb(d,i);i+=l;l,i=leb(d,i);i+=l;k=d[i];i+=1
        if k==0: _,i=leb(d,i);nimp+=1
        elif k==1: i+=1;f=d[i];i+=1;_,i=leb(d,i); i= leb(d,i)[1] if f&1 else i
        elif k==2: f=d[i];i+=1;_,i=leb(d,i); i= leb(d,i)[1] if f&1 else i
        elif k==3: i+=2
sizes=[]
i,e=secs[10];n,i=leb(d,i)
for _ in range(n):
    sz,j=leb(d,i);sizes.append(j-i+sz);i=j+sz
names={}
if 'name' in customs:
    i,e=customs['name']
    while i<e:
        sid=d[i];i+=1;sz,i=leb(d,i);end=i+sz
        if sid==1:
            n,i=leb(d,i)
            for _ in range(n):
                idx,i=leb(d,i);l,i=leb(d,i);names[idx]=d[i:i+l].decode('utf8','replace');i+=l
        i=end
def crate(nm):
    m=re.match(r'_ZN(\d+)(\w+)',nm)
    if m:
        l=int(m.group(1));c=m.group(2)[:l]
        return c
    m=re.match(r'_RN|_R',nm)
    m=re.search(r'<(\w+)::',nm) or re.match(r'(\w+)::',nm)
    return m.group(1) if m else nm[:30]
bycrate=collections.Counter();top=[]
for k,s in enumerate(sizes):
    nm=names.get(k+nimp,'?')
    bycrate[crate(nm)]+=s; top.append((s,nm))
print('code bytes',sum(sizes),'data',secs[11][1]-secs[11][0])
for c,s in bycrate.most_common(int(sys.argv[2]) if len(sys.argv)>2 else 40): print(s,c)
print('---')
top.sort(reverse=True)
for s,nm in top[:25]: print(s,nm[:140])
